package train

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library/media"
)

// Entry is one training array, as index.json lists it for the scripts.
type Entry struct {
	File     string `json:"file"`   // the .npy, relative to the folder
	Source   string `json:"source"` // the source file (or, for adapt, the item id)
	SHA256   string `json:"sha256"` // of the source
	Kind     string `json:"kind"`   // image2d | volume | video (of this array)
	Modality string `json:"modality"`
	BodyPart string `json:"body_part,omitempty"`
	Series   string `json:"series"`  // a hash of the series UID, or of the source
	Frames   int    `json:"frames"`  // frames in the source sample
	Derived  string `json:"derived"` // "" for the sample itself, "slice K" / "frame K" for one frame of it
	Shape    []int  `json:"shape"`   // [T, H, W]
}

// Arrays says how samples become arrays: preprocessed with Manifest's
// channel mapping, time mapping and normalisation at Size x Size; image2d
// samples with T = 1 (the trainer repeats them as the manifest's time
// mapping says), volumes and videos with T = Frames, plus up to Slices of
// their slices or frames, each as an image2d array (normalised alone, as
// when a user drops one slice).
type Arrays struct {
	Manifest             *inference.Manifest
	Size, Frames, Slices int
}

// Write writes sample s into dir as STEM.npy (and STEM_KKK.npy for its
// slices), and returns their entries: copies of e with the array's file,
// kind, derivation and shape filled in.
func (o Arrays) Write(dir, stem string, e Entry, s *media.Sample) ([]Entry, error) {
	var entries []Entry
	write := func(name string, smp *media.Sample, t int, derived string) error {
		m := *o.Manifest
		m.Input.Shape = []int64{-1, 1, int64(t), int64(o.Size), int64(o.Size)}
		x := inference.Preprocess(smp, &m)
		a := e
		a.File, a.Kind, a.Derived, a.Shape, a.Frames = name, string(smp.Kind), derived, []int{t, o.Size, o.Size}, s.Frames
		entries = append(entries, a)
		return WriteNPY(filepath.Join(dir, name), x, []int{t, o.Size, o.Size})
	}
	if s.Kind == media.Image2D || s.Frames == 1 {
		return entries, write(stem+".npy", s, 1, "")
	}
	if err := write(stem+".npy", s, o.Frames, ""); err != nil {
		return nil, err
	}
	n := min(o.Slices, s.Frames)
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

// WriteIndex writes dir/index.json, the list of arrays the trainer reads.
func (o Arrays) WriteIndex(dir string, entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	data, err := json.MarshalIndent(map[string]any{"manifest": o.Manifest.Name, "size": o.Size, "frames": o.Frames,
		"normalisation": o.Manifest.Normalisation, "time_mapping": o.Manifest.TimeMapping, "entries": entries}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), append(data, '\n'), 0o600)
}

// WriteNPY writes x as a little-endian float32 NumPy array of the shape,
// readable by the user alone.
func WriteNPY(path string, x []float32, shape []int) error {
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
	return os.WriteFile(path, buf, 0o600)
}
