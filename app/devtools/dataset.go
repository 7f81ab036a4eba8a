package devtools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/inference/train"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
)

// cmdDataset writes training arrays: every file under PATH... read by the
// project's own readers and preprocessed by the inference package's own
// channel mapping, time mapping, resizing and normalisation (those of the
// manifest given), at the size asked for. Image2d samples are written with
// T = 1 (the trainer repeats them as the manifest's time mapping says);
// volumes and videos with T = --frames, plus up to --slices of their slices
// or frames, each as an image2d sample (per-slice normalisation, as when a
// user drops one slice). Used by `make train` (inference/train/); the
// arrays are written by train.Arrays, as `m3ret adapt` writes them.
// datasetOptions are the flags of `m3ret dataset`.
type datasetOptions struct {
	out, manifest, root  string
	size, frames, slices int
}

func datasetCommand() cli.Command {
	var o datasetOptions
	return cli.Command{Name: "dataset", Args: "--out DIR [--manifest FILE] [--size N] [--frames T] [--slices N] [--root DIR] PATH...",
		Help: "training arrays for inference/train (make train)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.out, "out", "", "output folder")
			fs.StringVar(&o.manifest, "manifest", "inference/train/manifest.json", "model manifest whose normalisation and time mapping to use")
			fs.IntVar(&o.size, "size", 128, "side of the arrays written")
			fs.IntVar(&o.frames, "frames", 16, "T of the arrays written for volumes and videos")
			fs.IntVar(&o.slices, "slices", 24, "at most this many slices/frames of each volume or video also written as image2d")
			fs.StringVar(&o.root, "root", "", "folder the source paths in index.json are relative to")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() > 0 && o.out != "" && o.size >= 8 && o.frames >= 1 },
		Run:   func(e *cli.Env) int { return runDataset(e, &o) }}
}

func runDataset(e *cli.Env, o *datasetOptions) int {
	data, err := os.ReadFile(o.manifest)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	m, err := inference.ParseManifest(data)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	files, failed := walkAll(e.Args, e.Stderr)
	arr := train.Arrays{Manifest: m, Size: o.size, Frames: o.frames, Slices: o.slices}
	var entries []train.Entry
	for i, path := range files {
		s, err := library.ReadFile(context.Background(), path)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			fmt.Fprintf(e.Stderr, "m3ret dataset: skipped %s: %v\n", path, err)
			failed++
			continue
		}
		es, err := writeSampleArrays(arr, o.out, fmt.Sprintf("%05d", i), path, o.root, s)
		if err != nil {
			return cli.Fail(e.Stderr, err)
		}
		entries = append(entries, es...)
	}
	if err := arr.WriteIndex(o.out, entries); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	fmt.Fprintf(e.Stdout, "dataset: %d files read, %d skipped, %d arrays in %s\n", len(files)-failed, failed, len(entries), o.out)
	return cli.ExitOK
}

// walkAll expands the paths, reporting those that cannot be walked.
func walkAll(paths []string, stderr io.Writer) ([]string, int) {
	var files []string
	failed := 0
	for _, p := range paths {
		f, err := library.Walk(p)
		if err != nil {
			fmt.Fprintf(stderr, "m3ret dataset: skipped %s: %v\n", p, err)
			failed++
			continue
		}
		files = append(files, f...)
	}
	return files, failed
}

// writeSampleArrays writes the sample (and its slices) as .npy files.
func writeSampleArrays(arr train.Arrays, out, stem, path, root string, s *media.Sample) ([]train.Entry, error) {
	sum, err := library.FileHash(path)
	if err != nil {
		return nil, err
	}
	src := path
	if root != "" {
		if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
			src = r
		}
	}
	series := s.Meta.SeriesUID
	if series == "" {
		series = src
	}
	h := sha256.Sum256([]byte(series))
	return arr.Write(out, stem, train.Entry{Source: src, SHA256: sum, Modality: s.Meta.Modality, BodyPart: s.Meta.BodyPart,
		Series: hex.EncodeToString(h[:6]), Frames: s.Frames}, s)
}
