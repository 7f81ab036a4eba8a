package devtools

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestScoreVote: two clusters, one item of the first labelled as the
// second (the vote gets it wrong, sure of itself), a singleton that does
// not query.
func TestScoreVote(t *testing.T) {
	vecs := [][]float32{{1, 0}, {1, 0}, {0, 1}, {0, 1}, {1, 0}, {-1, 0}}
	labels := []string{"a", "a", "b", "b", "b", "c"}
	v := scoreVote(vecs, labels, 2)
	if v.N != 5 || math.Abs(v.Accuracy-0.8) > 1e-9 || v.AccuracyCI[0] > 0.8 || v.AccuracyCI[1] < 0.8 {
		t.Fatalf("report %+v", v)
	}
	// a1, a2: a and the mislabelled b at the same similarity, the tie to a
	// (0.5, right); b1, b2: b alone weighs (1.0, right); the mislabelled
	// item: a alone (1.0, wrong).
	want := []voteBin{{0, 0.2, 0, 0, 0}, {0.2, 0.4, 0, 0, 0}, {0.4, 0.6, 2, 0.5, 1}, {0.6, 0.8, 0, 0, 0}, {0.8, 1, 3, 1, 2.0 / 3}}
	for i, b := range v.Bins {
		w := want[i]
		if b.N != w.N || math.Abs(b.Lo-w.Lo) > 1e-9 || math.Abs(b.Hi-w.Hi) > 1e-9 ||
			math.Abs(b.MeanShare-w.MeanShare) > 1e-9 || math.Abs(b.Accuracy-w.Accuracy) > 1e-9 {
			t.Fatalf("bin %d: %+v, want %+v", i, b, w)
		}
	}
	var buf bytes.Buffer
	printVote(&buf, v)
	if !strings.Contains(buf.String(), "accuracy 0.800") || !strings.Contains(buf.String(), "0.8-1.0          3      1.000     0.667") {
		t.Fatalf("text:\n%s", buf.String())
	}
}

func TestCalibrationPlot(t *testing.T) {
	if got := calibrationPath("out/p.v1/precision.png"); got != "out/p.v1/precision-calibration.png" {
		t.Fatalf("path %q", got)
	}
	if got := calibrationPath("out.d/plot"); got != "out.d/plot-calibration.png" {
		t.Fatalf("path %q", got)
	}
	empty := filepath.Join(t.TempDir(), "empty.png")
	if err := writeCalibration(empty, &voteReport{Bins: make([]voteBin, voteBins)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.png")
	v := scoreVote([][]float32{{1, 0}, {1, 0}, {0, 1}, {0, 1}, {1, 0}}, []string{"a", "a", "b", "b", "b"}, 2)
	if err := writeCalibration(path, v); err != nil {
		t.Fatal(err)
	}
	// Two bins drawn: two points and the line between them.
	if n, none := countColour(t, path, palette[0]), countColour(t, empty, palette[0]); n < 2*25+50 || none != 0 {
		t.Fatalf("%d pixels of the curve's colour (%d without bins)", n, none)
	}
}
