package devtools

import (
	"fmt"
	"io"
	"strconv"

	"github.com/m3ret/viewer/library"
)

// voteBins is how many bins of the winning label's share the calibration
// has, of equal width over [0, 1].
const voteBins = 5

// voteReport is the leave-one-out k-NN label accuracy of the neighbour vote
// (library.Vote): each query's predicted label is the top-weighted label
// among its k nearest other items; correct when it is the query's own. The
// queries are those of the retrieval figures (singletons do not query).
type voteReport struct {
	N          int       `json:"n"`
	K          int       `json:"k"`
	Accuracy   float64   `json:"accuracy"`
	AccuracyCI interval  `json:"accuracy_ci"` // 95 % bootstrap over the queries
	Bins       []voteBin `json:"calibration"` // by the winning label's share
}

// voteBin is the queries whose winning share falls in [Lo, Hi) (the last
// bin includes 1): how many, their mean winning share, and how many were
// right.
type voteBin struct {
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	N         int     `json:"n"`
	MeanShare float64 `json:"mean_share"`
	Accuracy  float64 `json:"accuracy"`
}

// scoreVote votes each non-singleton item's label from its k nearest other
// items by cosine similarity.
func scoreVote(vecs [][]float32, labels []string, k int) *voteReport {
	rep := &voteReport{K: k, Bins: make([]voteBin, voteBins)}
	byIndex := make(map[string]string, len(labels))
	for i, l := range labels {
		byIndex[strconv.Itoa(i)] = l
	}
	count := labelCounts(labels)
	var right []float64
	for q := range vecs {
		if count[labels[q]] < 2 {
			continue
		}
		v := library.Vote(nearest(vecs, q, k), byIndex)
		win, _ := v.Winner()
		ok := 0.0
		if win.Label == labels[q] {
			ok = 1
		}
		right = append(right, ok)
		b := &rep.Bins[min(int(win.Share*voteBins), voteBins-1)]
		b.N++
		b.MeanShare += win.Share
		b.Accuracy += ok
	}
	rep.N = len(right)
	for i := range rep.Bins {
		b := &rep.Bins[i]
		b.Lo, b.Hi = float64(i)/voteBins, float64(i+1)/voteBins
		if b.N > 0 {
			b.MeanShare /= float64(b.N)
			b.Accuracy /= float64(b.N)
		}
	}
	rep.Accuracy = mean(right)
	rep.AccuracyCI = ci(right)
	return rep
}

// nearest is the k items most similar to item q (q left out) as results
// whose item ids are their indices.
func nearest(vecs [][]float32, q, k int) []library.Result {
	order := rankItems(vecs[q], singles(vecs), func(j int) bool { return j != q })
	out := make([]library.Result, 0, min(k, len(order)))
	for r, j := range order[:min(k, len(order))] {
		out = append(out, library.Result{Rank: r + 1, Score: float32(dot(vecs[q], vecs[j])), Item: library.Item{ID: strconv.Itoa(j)}})
	}
	return out
}

func printVote(w io.Writer, v *voteReport) {
	fmt.Fprintf(w, "neighbour vote (k = %d, similarity-weighted): accuracy %s over %d queries\n", v.K, withCI(v.Accuracy, v.AccuracyCI), v.N)
	fmt.Fprintf(w, "%-12s %5s %10s %9s\n", "share", "n", "mean share", "accuracy")
	for _, b := range v.Bins {
		fmt.Fprintf(w, "%.1f-%.1f      %5d %10.3f %9.3f\n", b.Lo, b.Hi, b.N, b.MeanShare, b.Accuracy)
	}
}
