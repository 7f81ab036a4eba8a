package train

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library/media"
)

// readNPY reads what WriteNPY wrote: the shape from the header, the values.
func readNPY(t *testing.T, path string) (string, []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("%s: not an .npy v1.0 file", path)
	}
	n := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+n)%64 != 0 {
		t.Fatalf("%s: header of %d bytes is not padded to 64", path, n)
	}
	header, body := string(b[10:10+n]), b[10+n:]
	x := make([]float32, len(body)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return header, x
}

func gradient(kind media.Kind, frames int) *media.Sample {
	s := &media.Sample{Kind: kind, Width: 40, Height: 30, Frames: frames, Channels: 1,
		Data: make([]float32, 40*30*frames), Meta: media.Meta{Modality: "MR"}}
	for i := range s.Data {
		s.Data[i] = float32(i % 977)
	}
	return s
}

func TestArraysWrite(t *testing.T) {
	data, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := inference.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	arr := Arrays{Manifest: m, Size: 32, Frames: 4, Slices: 3}
	cases := []struct {
		name    string
		s       *media.Sample
		files   []string
		derived []string
		shapes  []string
	}{
		{"image", gradient(media.Image2D, 1), []string{"a.npy"}, []string{""}, []string{"(1, 32, 32,)"}},
		{"volume", gradient(media.Volume, 9), []string{"a.npy", "a_001.npy", "a_004.npy", "a_007.npy"},
			[]string{"", "slice 1", "slice 4", "slice 7"}, []string{"(4, 32, 32,)", "(1, 32, 32,)", "(1, 32, 32,)", "(1, 32, 32,)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			es, err := arr.Write(dir, "a", Entry{Source: "item-1", Series: "s"}, c.s)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != len(c.files) {
				t.Fatalf("%d entries, want %d", len(es), len(c.files))
			}
			for i, e := range es {
				if e.File != c.files[i] || e.Derived != c.derived[i] || e.Source != "item-1" || e.Frames != c.s.Frames {
					t.Errorf("entry %d = %+v, want file %s, derived %q", i, e, c.files[i], c.derived[i])
				}
				header, x := readNPY(t, filepath.Join(dir, e.File))
				if !strings.Contains(header, "'shape': "+c.shapes[i]) || len(x) != e.Shape[0]*32*32 {
					t.Errorf("%s: header %q, %d values", e.File, header, len(x))
				}
				if st, _ := os.Stat(filepath.Join(dir, e.File)); st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want readable by the user alone", e.File, st.Mode().Perm())
				}
			}
			if err := arr.WriteIndex(dir, es); err != nil {
				t.Fatal(err)
			}
			var idx struct {
				Size    int     `json:"size"`
				Entries []Entry `json:"entries"`
			}
			b, _ := os.ReadFile(filepath.Join(dir, "index.json"))
			if err := json.Unmarshal(b, &idx); err != nil || idx.Size != 32 || len(idx.Entries) != len(es) {
				t.Fatalf("index.json: %v, %+v", err, idx)
			}
		})
	}
}

// TestArraysAreThePreprocessing: an image array is what the encoder's own
// preprocessing feeds the model for that image, at the array's size.
func TestArraysAreThePreprocessing(t *testing.T) {
	data, _ := os.ReadFile("manifest.json")
	m, err := inference.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := gradient(media.Image2D, 1)
	if _, err := (Arrays{Manifest: m, Size: 24, Frames: 2, Slices: 0}).Write(dir, "x", Entry{}, s); err != nil {
		t.Fatal(err)
	}
	_, got := readNPY(t, filepath.Join(dir, "x.npy"))
	mm := *m
	mm.Input.Shape = []int64{-1, 1, 1, 24, 24}
	want := inference.Preprocess(s, &mm)
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestWriteScripts(t *testing.T) {
	dir := t.TempDir()
	if err := WriteScripts(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{AdaptScript, "train.py", "model.py", "export.py"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(name)
		if string(got) != string(want) {
			t.Errorf("%s: the embedded copy differs from the file", name)
		}
	}
}
