package devtools

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/internal/apptest"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/perturb"
	"github.com/m3ret/viewer/library/samples"
)

// TestRankItems: an item ranks by its best vector, once however many
// vectors it has.
func TestRankItems(t *testing.T) {
	all := func(int) bool { return true }
	tests := []struct {
		name    string
		q       float64     // the query's angle, degrees
		gallery [][]float64 // each item's vectors' angles
		keep    func(int) bool
		want    []int
	}{
		{"one vector each", 0, [][]float64{{40}, {10}, {25}}, all, []int{1, 2, 0}},
		// Item 0's whole image (90) is far; its corner crop (5) is the
		// nearest of all, above item 1's only vector (20).
		{"a corner vector wins", 0, [][]float64{{90, 5}, {20}}, all, []int{0, 1}},
		{"the worst vectors do not count", 0, [][]float64{{30, 170, -120}, {35}}, all, []int{0, 1}},
		// Four vectors near the query still give item 0 one place.
		{"one result per item", 0, [][]float64{{1, 2, 3, 4}, {50}, {60, 70}}, all, []int{0, 1, 2}},
		{"left out", 0, [][]float64{{1, 2}, {50}, {60, 3}}, func(j int) bool { return j != 0 }, []int{2, 1}},
		{"ties in item order", 0, [][]float64{{30, 80}, {80, 30}, {-30}}, all, []int{0, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gallery := make([][][]float32, len(tc.gallery))
			for j, angles := range tc.gallery {
				gallery[j] = unit(angles...)
			}
			if got := rankItems(unit(tc.q)[0], gallery, tc.keep); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
		})
	}
}

// TestScoreMultiVectorCornerWins: originals at 0, 40, 85 degrees; item 0
// also has a corner vector at 60. The copy of item 0 at 58 finds item 1
// (40) first against the single vectors, its own corner vector first
// against the multi-vector gallery; the other copies lie on their
// originals. Leave-one-out with labels a a b, every query finds its
// relevant item first either way; with a b a, item 2 (85) finds item 0's
// corner (60) before item 1 (40), where its whole image (0) came after.
func TestScoreMultiVectorCornerWins(t *testing.T) {
	vecs := unit(0, 40, 85)
	gallery := [][][]float32{unit(0, 60), unit(40), unit(85)}
	pert := unit(58, 40, 85)
	labels := []string{"a", "a", "b"}
	single := scorePerturbed(vecs, pert, labels, 10)
	near(t, "single recall@1", single.RecallAt1, 2.0/3)
	views := []galleryView{{"whole", perturb.Identity}, {"corner", cropViews(0.8)[1].p}}
	m := scoreMultiVector(vecs, gallery, pert, labels, 10, views, make([]time.Duration, len(views)))
	near(t, "multi recall@1", m.Perturbation.RecallAt1, 1)
	near(t, "multi recall@5", m.Perturbation.RecallAt5, 1)
	if m.VectorsPerItem != 2 || strings.Join(m.Views, ",") != "whole,corner" || m.N != 2 {
		t.Fatalf("%+v", m)
	}
	near(t, "leave-one-out mAP", m.MAPAtK, 1)
	near(t, "recall@1 gain", m.Gain["recall_at_1"].Mean, 1.0/3)
	if m.Gain["recall_at_1"].CI != ci([]float64{1, 0, 0}) || m.Gain["loo_map_at_k"] != (gain{}) {
		t.Fatalf("gains %+v", m.Gain)
	}
	labels2 := []string{"a", "b", "a"}
	loo := scoreMultiVector(vecs, gallery, pert, labels2, 10, views, make([]time.Duration, len(views)))
	// Item 0 queries (a): 40 (b) before 80 (a): AP 1/2; item 2 queries:
	// item 0's corner (60) before 40: AP 1.
	near(t, "leave-one-out mAP, labels a b a", loo.MAPAtK, (0.5+1)/2)
	near(t, "leave-one-out gain", loo.Gain["loo_map_at_k"].Mean, 0.25)
	if one := evaluate(vecs, labels2, 10); one.MAPAtK != 0.5 {
		t.Fatalf("single-vector leave-one-out mAP %v, want 0.5 (item 2 finds 40 before 0)", one.MAPAtK)
	}
}

// TestMultiViews: the whole image first, 12 views named apart; the crops
// keep the named corner of a ramp exactly.
func TestMultiViews(t *testing.T) {
	if len(multiViews) != 12 || multiViews[0].p != perturb.Identity || !multiViews[11].p.Mirror {
		t.Fatalf("%+v", multiViews)
	}
	names := map[string]bool{}
	for _, v := range multiViews {
		names[v.name] = true
	}
	if len(names) != 12 {
		t.Fatalf("names %v", names)
	}
	w, h := 10, 5
	s := &media.Sample{Kind: media.Image2D, Width: w, Height: h, Frames: 1, Channels: 1, Data: make([]float32, w*h)}
	for i := range s.Data {
		s.Data[i] = float32(i)
	}
	tests := []struct {
		view          string
		w, h          int
		first, last   float32
		firstOfSecond float32
	}{
		{"top-left-60", 6, 3, 0, 25, 10},
		{"bottom-right-60", 6, 3, 24, 49, 34},
		{"top-right-80", 8, 4, 2, 39, 12},
		{"centre-80", 8, 4, 11, 48, 21}, // the room left, (2, 1), halved and rounded: (1, 1)
		{"mirror", 10, 5, 9, 40, 19},
	}
	for _, tc := range tests {
		p := viewNamed(t, tc.view)
		c, err := perturb.Apply(s, p)
		if err != nil {
			t.Fatal(err)
		}
		if c.Width != tc.w || c.Height != tc.h || c.Data[0] != tc.first || c.Data[len(c.Data)-1] != tc.last || c.Data[c.Width] != tc.firstOfSecond {
			t.Errorf("%s: %dx%d %v", tc.view, c.Width, c.Height, c.Data)
		}
	}
}

func viewNamed(t *testing.T, name string) perturb.Params {
	t.Helper()
	v, err := pickViews(name)
	if err != nil || len(v) != 1 || v[0].name != name {
		t.Fatalf("view %q: %v %v", name, v, err)
	}
	return v[0].p
}

func TestPickViews(t *testing.T) {
	if v, err := pickViews(""); err != nil || len(v) != len(multiViews) {
		t.Fatalf("all: %v %v", v, err)
	}
	if v, err := pickViews("whole, mirror"); err != nil || strings.Join(viewNames(v), ",") != "whole,mirror" || !v[1].p.Mirror {
		t.Fatalf("whole, mirror: %v %v", v, err)
	}
	if _, err := pickViews("whole,left"); err == nil {
		t.Fatal("an unknown view was picked")
	}
}

// TestEvalMultiVector runs `m3ret eval --perturb --multi-vector` on the
// ITK sample slices, labelled by their folder.
func TestEvalMultiVector(t *testing.T) {
	apptest.RequireORT(t)
	itk := samples.Dir(t, "itk")
	lib := filepath.Join(t.TempDir(), "lib")
	importInto(t, lib, itk)
	files, _ := filepath.Glob(filepath.Join(itk, "*", "*.png"))
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "%s,%s\n", f, filepath.Base(filepath.Dir(f)))
	}
	csv := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "eval", "--library", lib, "--labels", csv, "--k", "5", "--perturb", "--multi-vector", "--json")
	var r evalReport
	if err := json.Unmarshal([]byte(out), &r); code != cli.ExitOK || err != nil {
		t.Fatalf("eval: %d %v %s", code, err, errs)
	}
	m := r.MultiVector
	if m == nil || m.VectorsPerItem != 12 || len(m.Views) != 12 || m.Perturbation.N != len(files) || m.N != r.N ||
		m.EmbedSecondsMulti <= m.EmbedSecondsSingle || m.EmbedRatio <= 1 {
		t.Fatalf("multi-vector %+v", m)
	}
	if code, _, _ := runCLI(t, "eval", "--library", lib, "--labels", csv, "--multi-vector"); code == cli.ExitOK {
		t.Fatal("--multi-vector ran without --perturb")
	}
}
