package devtools

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
)

// datasetEntry is one array written by `m3ret dataset`, as its index.json
// lists it.
type datasetEntry struct {
	File     string `json:"file"`   // the .npy, relative to --out
	Source   string `json:"source"` // the source file, relative to --root when given
	SHA256   string `json:"sha256"` // of the source file
	Kind     string `json:"kind"`   // image2d | volume | video (of this array)
	Modality string `json:"modality"`
	BodyPart string `json:"body_part,omitempty"`
	Series   string `json:"series"`  // a hash of the series UID, or of the source path
	Frames   int    `json:"frames"`  // frames in the source sample
	Derived  string `json:"derived"` // "" for the sample itself, "slice K" / "frame K" for one frame of it
	Shape    []int  `json:"shape"`   // [T, H, W]
}

// cmdDataset writes training arrays: every file under PATH... read by the
// project's own readers and preprocessed by the inference package's own
// channel mapping, time mapping, resizing and normalisation (those of the
// manifest given), at the size asked for. Image2d samples are written with
// T = 1 (the trainer repeats them as the manifest's time mapping says);
// volumes and videos with T = --frames, plus up to --slices of their slices
// or frames, each as an image2d sample (per-slice normalisation, as when a
// user drops one slice). Used by `make train` (inference/train/).
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
	var entries []datasetEntry
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
		es, err := writeSampleArrays(o.out, fmt.Sprintf("%05d", i), path, o.root, s, m, o.size, o.frames, o.slices)
		if err != nil {
			return cli.Fail(e.Stderr, err)
		}
		entries = append(entries, es...)
	}
	if err := writeIndex(o, m, entries); err != nil {
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

// writeIndex writes index.json, the list of arrays the trainer reads.
func writeIndex(o *datasetOptions, m *inference.Manifest, entries []datasetEntry) error {
	f, err := os.Create(filepath.Join(o.out, "index.json"))
	if err != nil {
		return err
	}
	err = cli.WriteJSON(f, map[string]any{"manifest": m.Name, "size": o.size, "frames": o.frames,
		"normalisation": m.Normalisation, "time_mapping": m.TimeMapping, "entries": entries})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeSampleArrays writes the sample (and its slices) as .npy files.
func writeSampleArrays(out, stem, path, root string, s *media.Sample, base *inference.Manifest, size, frames, slices int) ([]datasetEntry, error) {
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
	entry := datasetEntry{Source: src, SHA256: sum, Modality: s.Meta.Modality, BodyPart: s.Meta.BodyPart,
		Series: hex.EncodeToString(h[:6]), Frames: s.Frames}
	var entries []datasetEntry
	write := func(name string, smp *media.Sample, t int, derived string) error {
		m := *base
		m.Input.Shape = []int64{-1, 1, int64(t), int64(size), int64(size)}
		x := inference.Preprocess(smp, &m)
		e := entry
		e.File, e.Kind, e.Derived, e.Shape = name, string(smp.Kind), derived, []int{t, size, size}
		entries = append(entries, e)
		return writeNPY(filepath.Join(out, name), x, []int{t, size, size})
	}
	if s.Kind == media.Image2D || s.Frames == 1 {
		return entries, write(stem+".npy", s, 1, "")
	}
	if err := write(stem+".npy", s, frames, ""); err != nil {
		return nil, err
	}
	n := min(slices, s.Frames)
	what := "slice"
	if s.Kind == media.Video {
		what = "frame"
	}
	for j := 0; j < n; j++ {
		k := int(math.Round((float64(j)+0.5)*float64(s.Frames)/float64(n) - 0.5))
		one := *s
		one.Kind, one.Frames, one.Data = media.Image2D, 1, s.Frame(k)
		one.Meta.SourceFrames = 0
		if err := write(fmt.Sprintf("%s_%03d.npy", stem, k), &one, 1, fmt.Sprintf("%s %d", what, k)); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// writeNPY writes x as a little-endian float32 NumPy array of the shape.
func writeNPY(path string, x []float32, shape []int) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }", strings.Join(dims, ", "))
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	buf := make([]byte, 0, 10+len(header)+4*len(x))
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range x {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	return os.WriteFile(path, buf, 0o644)
}
