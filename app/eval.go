package app

import (
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
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
	if parse(fs, args) != nil || fs.NArg() != 0 || *labels == "" || *k < 1 {
		fmt.Fprintln(stderr, "usage: m3ret eval --labels FILE.csv [--k N] [--plot FILE.png] [--json]")
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
		if err := writePlot(*plot, rep.PrecisionAt, rep.Model); err != nil {
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

// writePlot draws precision@k (k = 1..len(p)) as a PNG: axes, ticks with
// numbers (a built-in 3x5 digit font), grid lines at 0.25 steps and the
// curve with its points. Standard library only.
func writePlot(path string, p []float64, _ string) error {
	const W, H, left, right, top, bottom = 640, 400, 56, 24, 20, 44
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	white, grey, black, blue := color.RGBA{255, 255, 255, 255}, color.RGBA{220, 220, 220, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{31, 90, 180, 255}
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	_ = white
	pw, ph := W-left-right, H-top-bottom
	px := func(k int) int { // k in 1..n
		if len(p) == 1 {
			return left + pw/2
		}
		return left + (k-1)*pw/(len(p)-1)
	}
	py := func(v float64) int { return top + ph - int(v*float64(ph)+0.5) }
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		y := py(v)
		line(img, left, y, left+pw, y, grey)
		line(img, left-5, y, left, y, black)
		text(img, left-8-textWidth(fmt.Sprintf("%.2f", v)), y-5, fmt.Sprintf("%.2f", v), black)
	}
	line(img, left, top, left, top+ph, black)
	line(img, left, top+ph, left+pw, top+ph, black)
	step := max(1, len(p)/10)
	for k := 1; k <= len(p); k++ {
		if k == 1 || k%step == 0 {
			x := px(k)
			line(img, x, top+ph, x, top+ph+5, black)
			s := fmt.Sprint(k)
			text(img, x-textWidth(s)/2, top+ph+9, s, black)
		}
	}
	text(img, left+pw/2-textWidth("K")/2, H-14, "K", black)
	text(img, left-textWidth("P")/2, 4, "P", black)
	for k := 1; k < len(p); k++ {
		line(img, px(k), py(p[k-1]), px(k+1), py(p[k]), blue)
	}
	for k := 1; k <= len(p); k++ {
		x, y := px(k), py(p[k-1])
		for dy := -2; dy <= 2; dy++ {
			for dx := -2; dx <= 2; dx++ {
				img.Set(x+dx, y+dy, blue)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// line draws a 1-pixel line (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// glyphs is a 3x5 pixel font for the plot's numbers and axis letters; each
// row is 3 bits, most significant on the left.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, '.': {0, 0, 0, 0, 2}, 'K': {5, 5, 6, 5, 5},
	'P': {7, 5, 7, 4, 4},
}

const glyphScale = 2

func textWidth(s string) int { return len(s) * 4 * glyphScale }

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for i, r := range s {
		g := glyphs[r]
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row]&(4>>col) == 0 {
					continue
				}
				for sy := 0; sy < glyphScale; sy++ {
					for sx := 0; sx < glyphScale; sx++ {
						img.SetRGBA(x+(i*4+col)*glyphScale+sx, y+row*glyphScale+sy, c)
					}
				}
			}
		}
	}
}
