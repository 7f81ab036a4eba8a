package ingest

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// niftiHeader is a little-endian NIfTI-1 header for a 2x2x2 uint8 image;
// magic "n+1" (single file) or "ni1" (pair).
func niftiHeader(magic string) []byte {
	h := make([]byte, 352)
	le := binary.LittleEndian
	le.PutUint32(h, 348)
	for i, d := range []uint16{3, 2, 2, 2} {
		le.PutUint16(h[40+2*i:], d)
	}
	le.PutUint16(h[70:], 2)
	for i := 0; i < 4; i++ {
		le.PutUint32(h[76+4*i:], math.Float32bits(1))
	}
	if magic == "n+1" {
		le.PutUint32(h[108:], math.Float32bits(352))
	}
	copy(h[344:], magic)
	return h
}

// NIfTI files reach the NIfTI reader; a pair is walked as its .hdr alone,
// and JSON sidecars are not walked at all.
func TestNiftiDispatchAndWalk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "MR-brain")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"single.nii": append(niftiHeader("n+1"), 1, 2, 3, 4, 5, 6, 7, 8),
		"pair.hdr":   niftiHeader("ni1")[:348],
		"pair.img":   {8, 0, 3, 0, 5, 6, 7, 8}, // starts like a raw DICOM element: the .hdr wins
		"pair.json":  []byte(`{"description":"T1"}`),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := Walk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "pair.hdr" || filepath.Base(paths[1]) != "single.nii" {
		t.Fatalf("Walk = %v", paths)
	}
	for _, name := range []string{"single.nii", "pair.hdr", "pair.img"} {
		s, err := ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Kind != media.Volume || s.Meta.SourceFormat != "nifti" || s.Meta.Modality != "MR" || s.Frames != 2 {
			t.Fatalf("%s: %s %q %q %d frames", name, s.Kind, s.Meta.SourceFormat, s.Meta.Modality, s.Frames)
		}
	}
}

// The sample NIfTI and video files import through ReadFile.
func TestSampleNiftiAndVideo(t *testing.T) {
	root := samples.Dir(t, "nifti")
	s, err := ReadFile(filepath.Join(root, "mricron", "ch2.nii.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != media.Volume || s.Frames != 181 {
		t.Fatalf("ch2: %s %d frames", s.Kind, s.Frames)
	}
	v, err := ReadFile(filepath.Join(samples.Dir(t, "video"), "XA-heart", "angio.avi"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != media.Video || v.Meta.SourceFrames != 96 || v.Meta.Modality != "XA" {
		t.Fatalf("angio.avi: %s %d frames %q", v.Kind, v.Meta.SourceFrames, v.Meta.Modality)
	}
}
