package app

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// evalReport is what `m3ret eval --json` prints (shared/design/CLI.md).
type evalReport struct {
	Model       string                `json:"model"`
	N           int                   `json:"n"`       // queries: labelled items with at least one other item of their label
	Items       int                   `json:"items"`   // labelled items found in the library
	Missing     int                   `json:"missing"` // labelled paths not in the library
	Singletons  int                   `json:"singletons"`
	K           int                   `json:"k"`
	PrecisionA1 float64               `json:"precision_at_1"`
	PrecisionA5 float64               `json:"precision_at_5"`
	RecallAtK   float64               `json:"recall_at_k"`
	MAPAtK      float64               `json:"map_at_k"`
	PrecisionAt []float64             `json:"precision_at"` // precision at 1..k, averaged over queries
	PerLabel    map[string]labelScore `json:"per_label"`
}

type labelScore struct {
	N           int     `json:"n"`
	PrecisionA1 float64 `json:"precision_at_1"`
	PrecisionA5 float64 `json:"precision_at_5"`
	RecallAtK   float64 `json:"recall_at_k"`
	MAPAtK      float64 `json:"map_at_k"`
}

func cmdEval(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("eval", stderr)
	labels := fs.String("labels", "", "CSV of path,label (relative paths are read from the CSV's folder)")
	k := fs.Int("k", 10, "ranks scored by recall@k and mAP@k")
	plot := fs.String("plot", "", "write a precision@k plot (PNG) to this file")
	var with listFlag
	fs.Var(&with, "plot-with", "also draw the curve of an earlier `m3ret eval --json` report (repeatable)")
	if parse(fs, args) != nil || fs.NArg() != 0 || *labels == "" || *k < 1 {
		fmt.Fprintln(stderr, "usage: m3ret eval --labels FILE.csv [--k N] [--plot FILE.png [--plot-with REPORT.json]...] [--json]")
		return ExitUsage
	}
	want, err := readLabels(*labels)
	if err != nil {
		return fail(stderr, err)
	}
	s, err := openSession(c, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer s.Close()
	items, err := s.lib.Items()
	if err != nil {
		return fail(stderr, err)
	}
	var vecs [][]float32
	var labs []string
	found := map[string]bool{}
	for _, it := range items {
		l, ok := want[filepath.Clean(it.Path)]
		if !ok || found[filepath.Clean(it.Path)] {
			continue
		}
		v, err := s.lib.Vector(it.ID)
		if err != nil {
			return fail(stderr, fmt.Errorf("vector of %s: %w", it.Path, err))
		}
		found[filepath.Clean(it.Path)] = true
		vecs, labs = append(vecs, v), append(labs, l)
	}
	if len(vecs) == 0 {
		return fail(stderr, fmt.Errorf("none of the %d labelled paths is in the library %s (import them first)", len(want), s.lib.Dir()))
	}
	rep := evaluate(vecs, labs, *k)
	rep.Model, rep.Missing = s.enc.ModelID(), len(want)-len(vecs)
	if rep.Missing > 0 {
		fmt.Fprintf(stderr, "m3ret: %d labelled paths are not in the library\n", rep.Missing)
	}
	if *plot != "" {
		curves, err := readCurves(with)
		if err != nil {
			return fail(stderr, err)
		}
		curves = append([]curve{{modelName(rep.Model), rep.PrecisionAt}}, curves...)
		if err := writePlot(*plot, curves); err != nil {
			return fail(stderr, err)
		}
	}
	return output(stdout, c.json, rep, func(w io.Writer) { printEval(w, rep) })
}

// readLabels reads path,label rows (a header row "path,label" is skipped);
// relative paths are taken from the CSV's folder.
func readLabels(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	base := filepath.Dir(path)
	out := map[string]string{}
	for i, row := range rows {
		p, l := strings.TrimSpace(row[0]), strings.TrimSpace(row[1])
		if i == 0 && strings.EqualFold(p, "path") && strings.EqualFold(l, "label") {
			continue
		}
		if p == "" || l == "" {
			return nil, fmt.Errorf("labels %s: row %d: empty path or label", path, i+1)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		out[filepath.Clean(abs)] = l
	}
	if len(out) == 0 {
		return nil, errors.New("labels: no rows")
	}
	return out, nil
}

// evaluate scores leave-one-out retrieval: each item with at least one other
// item of its label queries all the other items, ranked by cosine
// similarity (ties broken by position); relevant = same label. Items whose
// label no other item shares are counted as singletons and do not query.
//
//	P@n       relevant among the first n, / n (n = 1, 5; and 1..k for the plot)
//	recall@k  relevant among the first k, / all relevant
//	AP@k      sum over relevant ranks r <= k of P@r, / min(k, all relevant)
func evaluate(vecs [][]float32, labels []string, k int) *evalReport {
	n := len(vecs)
	rep := &evalReport{Items: n, K: k, PerLabel: map[string]labelScore{}, PrecisionAt: make([]float64, k)}
	count := map[string]int{}
	for _, l := range labels {
		count[l]++
	}
	type acc struct{ n, p1, p5, rec, ap float64 }
	per := map[string]*acc{}
	var all acc
	order := make([]int, 0, n)
	score := make([]float64, n)
	for q := 0; q < n; q++ {
		rel := count[labels[q]] - 1
		if rel == 0 {
			rep.Singletons++
			continue
		}
		order = order[:0]
		for j := 0; j < n; j++ {
			if j != q {
				order = append(order, j)
				score[j] = dot(vecs[q], vecs[j])
			}
		}
		sort.SliceStable(order, func(a, b int) bool { return score[order[a]] > score[order[b]] })
		hits, ap := 0, 0.0
		var p1, p5 float64
		for r := 0; r < k; r++ {
			if r < len(order) && labels[order[r]] == labels[q] {
				hits++
				ap += float64(hits) / float64(r+1)
			}
			rep.PrecisionAt[r] += float64(hits) / float64(r+1)
			if r == 0 {
				p1 = float64(hits)
			}
			if r == 4 {
				p5 = float64(hits) / 5
			}
		}
		if k < 5 { // P@5 still means the first five
			h := 0
			for r := 0; r < 5 && r < len(order); r++ {
				if labels[order[r]] == labels[q] {
					h++
				}
			}
			p5 = float64(h) / 5
		}
		a := acc{1, p1, p5, float64(hits) / float64(rel), ap / float64(min(k, rel))}
		if per[labels[q]] == nil {
			per[labels[q]] = &acc{}
		}
		for _, t := range []*acc{per[labels[q]], &all} {
			t.n += a.n
			t.p1 += a.p1
			t.p5 += a.p5
			t.rec += a.rec
			t.ap += a.ap
		}
	}
	rep.N = int(all.n)
	if all.n == 0 {
		return rep
	}
	rep.PrecisionA1, rep.PrecisionA5, rep.RecallAtK, rep.MAPAtK = all.p1/all.n, all.p5/all.n, all.rec/all.n, all.ap/all.n
	for i := range rep.PrecisionAt {
		rep.PrecisionAt[i] /= all.n
	}
	for l, a := range per {
		rep.PerLabel[l] = labelScore{int(a.n), a.p1 / a.n, a.p5 / a.n, a.rec / a.n, a.ap / a.n}
	}
	return rep
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func printEval(w io.Writer, r *evalReport) {
	fmt.Fprintf(w, "model %s: %d queries (%d labelled items, %d singletons, %d missing), k = %d\n", r.Model, r.N, r.Items, r.Singletons, r.Missing, r.K)
	fmt.Fprintf(w, "P@1 %.3f  P@5 %.3f  recall@%d %.3f  mAP@%d %.3f\n", r.PrecisionA1, r.PrecisionA5, r.K, r.RecallAtK, r.K, r.MAPAtK)
	fmt.Fprintf(w, "%-28s %4s %6s %6s %8s %8s\n", "label", "n", "P@1", "P@5", "recall", "mAP")
	for _, l := range sortedKeys(r.PerLabel) {
		s := r.PerLabel[l]
		fmt.Fprintf(w, "%-28s %4d %6.3f %6.3f %8.3f %8.3f\n", l, s.N, s.PrecisionA1, s.PrecisionA5, s.RecallAtK, s.MAPAtK)
	}
}
