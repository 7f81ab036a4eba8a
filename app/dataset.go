package app

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/ingest"
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
func cmdDataset(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("dataset", stderr)
	out := fs.String("out", "", "output folder")
	manifest := fs.String("manifest", "inference/train/manifest.json", "model manifest whose normalisation and time mapping to use")
	size := fs.Int("size", 128, "side of the arrays written")
	frames := fs.Int("frames", 16, "T of the arrays written for volumes and videos")
	slices := fs.Int("slices", 24, "at most this many slices/frames of each volume or video also written as image2d")
	root := fs.String("root", "", "folder the source paths in index.json are relative to")
	if parse(fs, args) != nil || fs.NArg() == 0 || *out == "" || *size < 8 || *frames < 1 {
		fmt.Fprintln(stderr, "usage: m3ret dataset --out DIR [--manifest FILE] [--size N] [--frames T] [--slices N] [--root DIR] PATH...")
		return ExitUsage
	}
	data, err := os.ReadFile(*manifest)
	if err != nil {
		return fail(stderr, err)
	}
	m, err := inference.ParseManifest(data)
	if err != nil {
		return fail(stderr, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(stderr, err)
	}
	var files []string
	failed := 0
	for _, p := range fs.Args() {
		f, err := ingest.Walk(p)
		if err != nil {
			fmt.Fprintf(stderr, "m3ret dataset: skipped %s: %v\n", p, err)
			failed++
			continue
		}
		files = append(files, f...)
	}
	var entries []datasetEntry
	for i, path := range files {
		s, err := ingest.ReadFile(path)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			fmt.Fprintf(stderr, "m3ret dataset: skipped %s: %v\n", path, err)
			failed++
			continue
		}
		es, err := writeSampleArrays(*out, fmt.Sprintf("%05d", i), path, *root, s, m, *size, *frames, *slices)
		if err != nil {
			return fail(stderr, err)
		}
		entries = append(entries, es...)
	}
	f, err := os.Create(filepath.Join(*out, "index.json"))
	if err != nil {
		return fail(stderr, err)
	}
	writeJSON(f, map[string]any{"manifest": m.Name, "size": *size, "frames": *frames,
		"normalisation": m.Normalisation, "time_mapping": m.TimeMapping, "entries": entries})
	if err := f.Close(); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "dataset: %d files read, %d skipped, %d arrays in %s\n", len(files)-failed, failed, len(entries), *out)
	return ExitOK
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
