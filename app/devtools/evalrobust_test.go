package devtools

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/internal/apptest"
	"github.com/m3ret/viewer/library/samples"
)

// unit returns the 2-d unit vectors at the given angles (degrees).
func unit(deg ...float64) [][]float32 {
	out := make([][]float32, len(deg))
	for i, d := range deg {
		r := d * math.Pi / 180
		out[i] = []float32{float32(math.Cos(r)), float32(math.Sin(r))}
	}
	return out
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("%s = %.6f, want %.6f", name, got, want)
	}
}

// TestScorePerturbedByHand: seven originals at 0, 10, ..., 60 degrees
// (labels a a a b b b, and c alone); each copy's angle sets its ranking
// (the nearest angle first), worked out by hand:
//
//	copy 0 at 57: 6 5 4 3 2 1 0 -> original 7th; without it a at 5, 6: AP (1/5 + 2/6) / 2
//	copy 1 at 12: 1 2 0 3 4 5 6 -> original 1st; a at 1, 2: AP 1
//	copy 2 at 33: 3 4 2 5 1 6 0 -> original 3rd; a at 4, 6: AP (1/4 + 2/6) / 2
//	copy 3 at 31: 3 4 2 5 1 6 0 -> original 1st; b at 1, 3: AP (1 + 2/3) / 2
//	copy 4 at 44: 4 5 3 6 2 1 0 -> original 1st; b at 1, 2: AP 1
//	copy 5 at  4: 0 1 2 3 4 5 6 -> original 6th; b at 4, 5: AP (1/4 + 2/5) / 2
//	copy 6 at 66: 6 5 4 ...     -> original 1st; c has no other item: no AP
//
// Against other labels only, copy 0 has 6 5 4 3 above its original (5th)
// and copy 5 has 0 1 2 (4th; b's 3 and 4 not counted): recall@5 7/7.
func TestScorePerturbedByHand(t *testing.T) {
	orig := unit(0, 10, 20, 30, 40, 50, 60)
	pert := unit(57, 12, 33, 31, 44, 4, 66)
	labels := []string{"a", "a", "a", "b", "b", "b", "c"}
	r := scorePerturbed(orig, pert, labels, 10)
	if r.N != 7 || r.MAPN != 6 {
		t.Fatalf("n %d, map_n %d", r.N, r.MAPN)
	}
	near(t, "recall@1", r.RecallAt1, 4.0/7)
	near(t, "recall@5", r.RecallAt5, 5.0/7)
	near(t, "recall@1, other labels", r.RecallAt1Apart, 4.0/7)
	near(t, "recall@5, other labels", r.RecallAt5Apart, 1)
	aps := []float64{(1.0/5 + 2.0/6) / 2, 1, (1.0/4 + 2.0/6) / 2, (1 + 2.0/3) / 2, 1, (1.0/4 + 2.0/5) / 2}
	near(t, "mAP@10", r.MAPAtK, sum(aps)/6)
	// The intervals resample these same per-copy scores, in query order.
	nearCI(t, "mAP@10", r.MAPAtKCI, ci(aps))
	if want := ci([]float64{0, 1, 0, 1, 1, 0, 1}); r.RecallAt1CI != want || want[0] >= want[1] {
		t.Errorf("recall@1 interval %v, want %v with width", r.RecallAt1CI, want)
	}
	if r.RecallAt5ApartCI != (interval{1, 1}) {
		t.Errorf("recall@5 (other labels) is 1 for every copy; interval %v", r.RecallAt5ApartCI)
	}
	// k = 2: only ranks 1 and 2 count, over min(2, 2).
	r = scorePerturbed(orig, pert, labels, 2)
	near(t, "mAP@2", r.MAPAtK, (0+1+0+0.5+1+0)/6)
}

// TestScoreCrossModalByHand: six items at angles 0 (a, T1), 37 (a, PD),
// 53 (b, PD), 90 (b, T1), 12 (a, DWI), 45 (c, DWI); each queries the
// other modalities only:
//
//	0  (T1 a):  12 37 45 53      -> a at 1, 2: AP 1
//	90 (T1 b):  53 45 37 12      -> b at 1: AP 1
//	37 (PD a):  45 12 0 90       -> a at 2, 3: AP (1/2 + 2/3) / 2
//	53 (PD b):  45 90 12 0       -> b at 2 (one relevant): AP 1/2
//	12 (DWI a): 0 37 53 90       -> a at 1, 2: AP 1
//	45 (DWI c): no c elsewhere   -> no query
func TestScoreCrossModalByHand(t *testing.T) {
	vecs := unit(0, 37, 53, 90, 12, 45)
	labels := []string{"a", "a", "b", "b", "a", "c"}
	mods := []string{"T1", "PD", "PD", "T1", "DWI", "DWI"}
	r := scoreCrossModal(vecs, labels, mods, 10)
	if r.N != 5 || r.NoRelevant != 1 || len(r.Modalities) != 3 || r.Modalities[0] != "DWI" {
		t.Fatalf("%+v", r)
	}
	near(t, "mAP@10", r.MAPAtK, (1+1+(0.5+2.0/3)/2+0.5+1)/5)
	near(t, "P@1", r.PrecisionA1, 3.0/5)
	nearCI(t, "mAP@10", r.MAPAtKCI, ci([]float64{1, (0.5 + 2.0/3) / 2, 0.5, 1, 1}))
	if r.MAPAtKCI[0] > r.MAPAtK || r.MAPAtKCI[1] < r.MAPAtK {
		t.Errorf("mAP@10 interval %v does not hold %v", r.MAPAtKCI, r.MAPAtK)
	}
	if want := ci([]float64{1, 0, 0, 1, 1}); r.PrecisionA1CI != want {
		t.Errorf("P@1 interval %v, want %v", r.PrecisionA1CI, want)
	}
	near(t, "T1 mAP", r.PerModality["T1"].MAPAtK, 1)
	near(t, "PD mAP", r.PerModality["PD"].MAPAtK, ((0.5+2.0/3)/2+0.5)/2)
	near(t, "PD P@1", r.PerModality["PD"].PrecisionA1, 0)
	if r.PerModality["DWI"].N != 1 || r.PerModality["T1"].N != 2 {
		t.Fatalf("%+v", r.PerModality)
	}
	near(t, "mAP@1", scoreCrossModal(vecs, labels, mods, 1).MAPAtK, 3.0/5)

	// A gallery of relevant items only does not score: 0 (a, M1) finds
	// only 1 (a, M2); 2 (b, M1) finds no b; 1 (a, M2) queries.
	three := scoreCrossModal(unit(0, 30, 60), []string{"a", "a", "b"}, []string{"M1", "M2", "M1"}, 10)
	if three.N != 1 || three.OnlyRelevant != 1 || three.NoRelevant != 1 || three.MAPAtK != 1 {
		t.Fatalf("%+v", three)
	}

	// One modality only: nothing to query, and no division by zero.
	one := scoreCrossModal(vecs, labels, []string{"MR", "MR", "MR", "MR", "MR", "MR"}, 10)
	if one.N != 0 || one.NoRelevant != 6 || one.MAPAtK != 0 {
		t.Fatalf("%+v", one)
	}
}

// nearCI fails unless the interval got is want, up to rounding.
func nearCI(t *testing.T, name string, got, want interval) {
	t.Helper()
	if math.Abs(got[0]-want[0]) > 1e-9 || math.Abs(got[1]-want[1]) > 1e-9 {
		t.Errorf("%s interval %v, want %v", name, got, want)
	}
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

func TestReadLabelsModality(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(csv, []byte("path,label,modality\na.png,brain,MR-T1\nb.png,brain,\nc.png,chest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := readLabels(csv)
	if err != nil {
		t.Fatal(err)
	}
	if m[filepath.Join(dir, "a.png")] != (labelRow{"brain", "MR-T1"}) || m[filepath.Join(dir, "b.png")] != (labelRow{"brain", ""}) ||
		m[filepath.Join(dir, "c.png")] != (labelRow{"chest", ""}) || len(m) != 3 {
		t.Fatalf("%v", m)
	}
	if err := os.WriteFile(csv, []byte("a.png,brain,MR,extra\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readLabels(csv); err == nil {
		t.Fatal("a row of four fields was read")
	}
}

// TestEvalPerturbCrossModal runs `m3ret eval --perturb --cross-modal` on
// the real ITK sample slices (5 brain MR, 1 abdomen MR, 2 Visible Woman
// head photographs), labelled by anatomy (the brain MR and the photographs
// are both "head") with the modality in the third column.
func TestEvalPerturbCrossModal(t *testing.T) {
	apptest.RequireORT(t)
	itk := samples.Dir(t, "itk")
	lib := filepath.Join(t.TempDir(), "lib")
	importInto(t, lib, itk)
	files, _ := filepath.Glob(filepath.Join(itk, "*", "*.png"))
	var b strings.Builder
	b.WriteString("path,label,modality\n")
	for _, f := range files {
		mod, part, _ := strings.Cut(filepath.Base(filepath.Dir(f)), "-")
		if part == "brain" {
			part = "head"
		}
		fmt.Fprintf(&b, "%s,%s,%s\n", f, part, mod)
	}
	csv := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(seed string) evalReport {
		code, out, errs := runCLI(t, "eval", "--library", lib, "--labels", csv, "--k", "5", "--perturb", "--seed", seed, "--cross-modal", "--json")
		var r evalReport
		if err := json.Unmarshal([]byte(out), &r); code != cli.ExitOK || err != nil {
			t.Fatalf("eval: %d %v %s", code, err, errs)
		}
		return r
	}
	r := run("3")
	p, c := r.Perturbation, r.CrossModal
	if p == nil || c == nil {
		t.Fatalf("no perturbation or cross-modal figures: %+v", r)
	}
	// 8 copies query; the abdomen has no other item of its label.
	if p.N != 8 || p.MAPN != 7 || p.Seed != 3 || p.RecallAt1 > p.RecallAt5 || p.RecallAt5 <= 0 || p.RecallAt5 > 1 || p.MAPAtK <= 0 {
		t.Fatalf("perturbation %+v", p)
	}
	// The 2 photographs query the MR (5 heads, 1 abdomen); an MR head
	// finds the two photographs only, both relevant, and the abdomen no
	// head elsewhere: those do not score.
	if c.N != 2 || c.NoRelevant != 1 || c.OnlyRelevant != 5 || strings.Join(c.Modalities, " ") != "MR XC" ||
		c.PerModality["XC"].N != 2 || c.PerModality["MR"].N != 0 || c.MAPAtK <= 0 || c.MAPAtK > 1 {
		t.Fatalf("cross-modal %+v", c)
	}
	for _, f := range []struct {
		name string
		v    float64
		c    interval
	}{{"recall@1", p.RecallAt1, p.RecallAt1CI}, {"recall@5", p.RecallAt5, p.RecallAt5CI}, {"mAP", p.MAPAtK, p.MAPAtKCI}} {
		if f.c[0] > f.v || f.c[1] < f.v || f.c[0] < 0 || f.c[1] > 1 {
			t.Errorf("%s %v, interval %v", f.name, f.v, f.c)
		}
	}
	if again := run("3"); *again.Perturbation != *p {
		t.Fatalf("seed 3 twice: %+v then %+v", p, again.Perturbation)
	}
	code, out, _ := runCLI(t, "eval", "--library", lib, "--labels", csv, "--k", "5", "--perturb", "--cross-modal")
	if code != cli.ExitOK || !strings.Contains(out, "perturbed copies (seed 1") || !strings.Contains(out, "cross-modal") ||
		!regexp.MustCompile(`mAP@5 \d\.\d{3} \[\d\.\d\d, \d\.\d\d\]`).MatchString(out) {
		t.Fatalf("text output: %d %s", code, out)
	}
}
