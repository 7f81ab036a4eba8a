package devtools

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/app/internal/apptest"
	"github.com/m3ret/viewer/library/samples"
)

// TestEvaluateKnownRanking scores a tiny hand-made ranking (2-d unit
// vectors; labels a, a, b, b and a singleton c) whose every figure is
// worked out by hand:
//
//	query 0 (a): ranks 1, 4, 2, 3 -> relevant at rank 1
//	query 1 (a): ranks 4, 2, 0, 3 -> relevant at rank 3
//	query 2 (b): ranks 4, 1, 3, 0 -> relevant at rank 3
//	query 3 (b): ranks 2, 4, 1, 0 -> relevant at rank 1
//	item 4 (c) is a singleton: it does not query.
func TestEvaluateKnownRanking(t *testing.T) {
	s := float32(math.Sqrt(0.5))
	vecs := [][]float32{{1, 0}, {0.8, 0.6}, {0.6, 0.8}, {0, 1}, {s, s}}
	labels := []string{"a", "a", "b", "b", "c"}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	r := evaluate(vecs, labels, 2)
	if r.N != 4 || r.Singletons != 1 || r.Items != 5 {
		t.Fatalf("n %d singletons %d items %d", r.N, r.Singletons, r.Items)
	}
	near("P@1", r.PrecisionA1, 0.5)
	near("P@5", r.PrecisionA5, 0.2) // one relevant among the 4 others, over 5
	near("recall@2", r.RecallAtK, 0.5)
	near("mAP@2", r.MAPAtK, 0.5)
	near("precision@1 curve", r.PrecisionAt[0], 0.5)
	near("precision@2 curve", r.PrecisionAt[1], 0.25)
	// Per query AP@2 is 1, 0, 0, 1 (in query order) and P@5 0.2 for all.
	if want := ci([]float64{1, 0, 0, 1}); r.MAPAtKCI != want || want[0] > r.MAPAtK || want[1] < r.MAPAtK || want[0] == want[1] {
		t.Errorf("mAP@2 interval %v, want %v around %v", r.MAPAtKCI, want, r.MAPAtK)
	}
	if w := r.PrecisionA5CI; math.Abs(w[0]-0.2) > 1e-12 || math.Abs(w[1]-0.2) > 1e-12 {
		t.Errorf("P@5 is 0.2 for every query; interval %v", w)
	}
	near("label a P@1", r.PerLabel["a"].PrecisionA1, 0.5)
	if _, ok := r.PerLabel["c"]; ok {
		t.Error("a singleton label has figures")
	}

	r = evaluate(vecs, labels, 3)
	near("recall@3", r.RecallAtK, 1)
	near("mAP@3", r.MAPAtK, (1+1.0/3+1.0/3+1)/4)
	near("precision@3 curve", r.PrecisionAt[2], 1.0/3)
}

func TestReadLabelsRelative(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(csv, []byte("path,label\nsub/a.png,x\n/abs/b.png, y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := readLabels(csv)
	if err != nil {
		t.Fatal(err)
	}
	if m[filepath.Join(dir, "sub", "a.png")].label != "x" || m["/abs/b.png"].label != "y" || len(m) != 2 {
		t.Fatalf("%v", m)
	}
}

// TestEvalCommand imports the real ITK sample slices (5 brain MR, 1 abdomen
// MR, 2 Visible Woman head photographs), labels them by their folder and
// runs `m3ret eval --json --plot` on them.
func TestEvalCommand(t *testing.T) {
	apptest.RequireORT(t)
	itk := samples.Dir(t, "itk")
	lib := filepath.Join(t.TempDir(), "lib")
	importInto(t, lib, itk)
	files, _ := filepath.Glob(filepath.Join(itk, "*", "*.png"))
	var b strings.Builder
	b.WriteString("path,label\n")
	for _, f := range files {
		fmt.Fprintf(&b, "%s,%s\n", f, filepath.Base(filepath.Dir(f)))
	}
	b.WriteString("/not/imported.png,MR-brain\n")
	csv := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	plot := filepath.Join(t.TempDir(), "p.png")
	code, out, errs := runCLI(t, "eval", "--library", lib, "--labels", csv, "--k", "5", "--plot", plot, "--json")
	if code != cli.ExitOK {
		t.Fatalf("eval: %d %s", code, errs)
	}
	var r evalReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// 8 items: MR-brain (5) and XC-head (2) query, MR-abdomen is a singleton.
	if r.Items != 8 || r.N != 7 || r.Singletons != 1 || r.Missing != 1 || len(r.PrecisionAt) != 5 {
		t.Fatalf("%+v", r)
	}
	if r.PrecisionA1 < 0 || r.PrecisionA1 > 1 || r.MAPAtK <= 0 {
		t.Fatalf("%+v", r)
	}
	if v := r.Vote; v == nil || v.N != 7 || v.K != 5 || len(v.Bins) != voteBins || v.Accuracy < v.AccuracyCI[0] || v.Accuracy > v.AccuracyCI[1] {
		t.Fatalf("vote %+v", r.Vote)
	}
	if n := countColour(t, filepath.Join(filepath.Dir(plot), "p-calibration.png"), palette[0]); n < 25 {
		t.Fatalf("calibration plot: %d pixels of its colour", n)
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() != 640 {
		t.Fatalf("plot: %v", err)
	}
	// A second curve from the report just written, in the second colour.
	rep := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(rep, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	plot2 := filepath.Join(t.TempDir(), "p2.png")
	if code, _, errs := runCLI(t, "eval", "--library", lib, "--labels", csv, "--k", "5", "--plot", plot2, "--plot-with", rep); code != cli.ExitOK {
		t.Fatalf("eval --plot-with: %d %s", code, errs)
	}
	if n := countColour(t, plot2, palette[1]); n < 20 {
		t.Fatalf("second curve: %d pixels of its colour", n)
	}
	if code, _, _ := runCLI(t, "eval", "--library", lib, "--labels", csv, "--plot", plot2, "--plot-with", csv); code == cli.ExitOK {
		t.Fatal("--plot-with a CSV was accepted")
	}
	if code, _, errs := runCLI(t, "eval", "--library", lib); code != cli.ExitError || !strings.Contains(errs, "m3ret label") {
		t.Fatalf("eval without --labels on a library without labels: %d %s", code, errs)
	}
	// The same labels set on the items (m3ret label, the window) give the
	// same evaluation without a CSV.
	labelItems(t, lib, func(path string) string { return filepath.Base(filepath.Dir(path)) })
	code, out2, errs := runCLI(t, "eval", "--library", lib, "--k", "5", "--json")
	var r2 evalReport
	if json.Unmarshal([]byte(out2), &r2); code != cli.ExitOK || r2.N != r.N || r2.Items != r.Items || r2.MAPAtK != r.MAPAtK || r2.PrecisionA1 != r.PrecisionA1 {
		t.Fatalf("eval from the catalog's labels: %d %+v %s; from the CSV %+v", code, r2, errs, r)
	}
}

// labelItems sets the label of every item of the library at lib.
func labelItems(t *testing.T, lib string, label func(path string) string) {
	t.Helper()
	s, err := cli.Open(&cli.Common{Library: lib, Provider: "cpu"}, os.Stderr, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := s.Library().Items()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := s.Library().SetLabel(context.Background(), it.ID, label(it.Path)); err != nil {
			t.Fatal(err)
		}
	}
}

// countColour counts the pixels of one colour in a PNG.
func countColour(t *testing.T, path string, c color.RGBA) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}
