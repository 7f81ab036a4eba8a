package devtools

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestBootstrapCI: the interval of constant scores is that constant with no
// width; that of varied scores holds their mean, lies within their range and
// has width; the same seed gives the same interval and another seed another.
func TestBootstrapCI(t *testing.T) {
	varied := []float64{0, 1, 0, 0, 1, 1, 0.5, 0.25, 1, 0}
	for _, tc := range []struct {
		name      string
		scores    []float64
		zeroWidth bool
	}{
		{"constant ones", []float64{1, 1, 1, 1, 1}, true},
		{"constant fraction", []float64{0.4, 0.4, 0.4}, true},
		{"one query", []float64{0.7}, true},
		{"varied", varied, false},
		{"mostly zeros", []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mean(tc.scores)
			c := bootstrapCI(tc.scores, 1000, 7, 0.95)
			if c[0] > m+1e-12 || c[1] < m-1e-12 {
				t.Errorf("interval %v does not hold the mean %v", c, m)
			}
			if w := c[1] - c[0]; tc.zeroWidth != (w < 1e-12) {
				t.Errorf("interval %v has width %v (zero width wanted: %v)", c, w, tc.zeroWidth)
			}
			lo, hi := minMax(tc.scores)
			if c[0] < lo-1e-12 || c[1] > hi+1e-12 {
				t.Errorf("interval %v outside the scores' range [%v, %v]", c, lo, hi)
			}
		})
	}
	a, b := bootstrapCI(varied, 1000, 7, 0.95), bootstrapCI(varied, 1000, 7, 0.95)
	if a != b {
		t.Errorf("the same seed gave %v and %v", a, b)
	}
	if c := bootstrapCI(varied, 1000, 8, 0.95); c == a {
		t.Errorf("seeds 7 and 8 gave the same interval %v", c)
	}
	if c := bootstrapCI(nil, 1000, 7, 0.95); c != (interval{}) {
		t.Errorf("no scores gave %v, want [0, 0]", c)
	}
}

// TestBootstrapCIKnownSpread: the mean of 400 fair coin flips has a standard
// error of 0.025, so the 95 % interval is about mean ± 0.049.
func TestBootstrapCIKnownSpread(t *testing.T) {
	scores := make([]float64, 400)
	for i := range scores {
		scores[i] = float64(i % 2)
	}
	c := bootstrapCI(scores, 2000, 1, 0.95)
	for i, want := range []float64{0.451, 0.549} {
		if math.Abs(c[i]-want) > 0.012 {
			t.Errorf("interval %v, want about [0.451, 0.549]", c)
		}
	}
}

func TestQuantile(t *testing.T) {
	x := []float64{0, 10, 20, 30, 40}
	for _, tc := range []struct{ p, want float64 }{{0, 0}, {1, 40}, {0.5, 20}, {0.125, 5}, {0.975, 39}} {
		if got := quantile(x, tc.p); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// TestIntervalJSON: an interval is a two-number array in --json, and the
// text prints a figure as "0.482 [0.41, 0.55]".
func TestIntervalJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		C interval `json:"map_at_k_ci"`
	}{interval{0.41, 0.55}})
	if err != nil || string(b) != `{"map_at_k_ci":[0.41,0.55]}` {
		t.Errorf("json %s, %v", b, err)
	}
	if s := withCI(0.482, interval{0.41, 0.55}); s != "0.482 [0.41, 0.55]" {
		t.Errorf("text %q", s)
	}
	if !strings.Contains(withCI(1, interval{1, 1}), "[1.00, 1.00]") {
		t.Error("a zero-width interval is not printed")
	}
}

func minMax(x []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}
