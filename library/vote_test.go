package library

import (
	"math"
	"reflect"
	"testing"
)

func res(pairs ...any) []Result {
	var out []Result
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Result{Rank: i/2 + 1, Score: float32(pairs[i+1].(float64)), Item: Item{ID: pairs[i].(string)}})
	}
	return out
}

func TestVote(t *testing.T) {
	labels := map[string]string{"a": "tumour", "b": "tumour", "c": "normal", "d": "normal", "e": "cyst"}
	cases := []struct {
		name       string
		results    []Result
		want       []LabelShare
		unlabelled int
	}{
		{"one label dominating", res("a", 0.9, "b", 0.9, "c", 0.2), []LabelShare{{"tumour", 0.9}, {"normal", 0.1}}, 0},
		{"tie broken by label", res("a", 0.5, "c", 0.5), []LabelShare{{"normal", 0.5}, {"tumour", 0.5}}, 0},
		{"all unlabelled", res("x", 0.9, "y", 0.8), nil, 2},
		{"unlabelled apart", res("x", 0.9, "a", 0.3, "e", 0.1), []LabelShare{{"tumour", 0.75}, {"cyst", 0.25}}, 1},
		{"negative scores count 0", res("a", -0.8, "c", 0.4, "e", 0.4), []LabelShare{{"cyst", 0.5}, {"normal", 0.5}, {"tumour", 0}}, 0},
		{"all non-positive: counts", res("a", -0.8, "b", 0.0, "c", -0.1), []LabelShare{{"tumour", 2.0 / 3}, {"normal", 1.0 / 3}}, 0},
		{"empty", nil, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Vote(c.results, labels)
			if v.Unlabelled != c.unlabelled || v.K != len(c.results) || v.Labelled+v.Unlabelled != v.K {
				t.Fatalf("counts %+v", v)
			}
			if !sharesNear(v.Shares, c.want) {
				t.Fatalf("shares %+v, want %+v", v.Shares, c.want)
			}
		})
	}
}

func sharesNear(got, want []LabelShare) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Label != want[i].Label || math.Abs(got[i].Share-want[i].Share) > 1e-6 {
			return false
		}
	}
	return true
}

func TestVoteSharesSumToOne(t *testing.T) {
	v := Vote(res("a", 0.31, "c", 0.77, "e", 0.05, "d", 0.6), map[string]string{"a": "x", "c": "y", "d": "y", "e": "z"})
	var sum float64
	for _, s := range v.Shares {
		sum += s.Share
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("shares sum to %v", sum)
	}
}

func TestVoteWinnerAndFold(t *testing.T) {
	v := Vote(res("a", 0.6, "c", 0.3, "e", 0.1), map[string]string{"a": "tumour", "c": "normal", "e": "cyst"})
	if w, ok := v.Winner(); !ok || w.Label != "tumour" {
		t.Fatalf("winner %+v %v", w, ok)
	}
	got := v.Fold(0.2)
	if want := []LabelShare{{"tumour", 0.6}, {"normal", 0.3}, {Other, 0.1}}; !sharesNear(got, want) {
		t.Fatalf("fold 0.2: %+v", got)
	}
	if got := v.Fold(0); !reflect.DeepEqual(got, v.Shares) {
		t.Fatalf("fold 0 changed the shares: %+v", got)
	}
	if got := v.Fold(0.7); !sharesNear(got, []LabelShare{{Other, 1}}) {
		t.Fatalf("fold 0.7: %+v", got)
	}
	if _, ok := Vote(nil, nil).Winner(); ok {
		t.Fatal("a winner without labelled neighbours")
	}
}
