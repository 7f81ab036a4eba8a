package devtools

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// evalReport is what `m3ret eval --json` prints; scripts rely on its
// field names (n, k, precision_at_1, precision_at_5, recall_at_k, map_at_k,
// per_label; perturbation and cross_modal with --perturb and --cross-modal).
type evalReport struct {
	Model       string    `json:"model"`
	N           int       `json:"n"`       // queries: labelled items with at least one other item of their label
	Items       int       `json:"items"`   // labelled items found in the library
	Missing     int       `json:"missing"` // labelled paths not in the library
	Singletons  int       `json:"singletons"`
	K           int       `json:"k"`
	PrecisionA1 float64   `json:"precision_at_1"`
	PrecisionA5 float64   `json:"precision_at_5"`
	RecallAtK   float64   `json:"recall_at_k"`
	MAPAtK      float64   `json:"map_at_k"`
	PrecisionAt []float64 `json:"precision_at"` // precision at 1..k, averaged over queries
	// The 95 % bootstrap intervals of the four figures above (queries
	// resampled with replacement, seeded: see bootstrapCI).
	PrecisionA1CI interval              `json:"precision_at_1_ci"`
	PrecisionA5CI interval              `json:"precision_at_5_ci"`
	RecallAtKCI   interval              `json:"recall_at_k_ci"`
	MAPAtKCI      interval              `json:"map_at_k_ci"`
	PerLabel      map[string]labelScore `json:"per_label"`
	Vote          *voteReport           `json:"vote,omitempty"` // the k nearest's label vote

	Perturbation *perturbReport     `json:"perturbation,omitempty"` // --perturb
	CrossModal   *crossModalReport  `json:"cross_modal,omitempty"`  // --cross-modal
	MultiVector  *multiVectorReport `json:"multi_vector,omitempty"` // --perturb --multi-vector
}

type labelScore struct {
	N           int     `json:"n"`
	PrecisionA1 float64 `json:"precision_at_1"`
	PrecisionA5 float64 `json:"precision_at_5"`
	RecallAtK   float64 `json:"recall_at_k"`
	MAPAtK      float64 `json:"map_at_k"`
}

// evalOptions are the flags of `m3ret eval`.
type evalOptions struct {
	labels, plot string
	k            int
	with         listFlag
	perturb      bool
	seed         uint64
	crossModal   bool
	multiVector  bool
	views        string
}

func evalCommand() cli.Command {
	var o evalOptions
	return cli.Command{Name: "eval", Args: "[--labels FILE.csv] [--k N] [--perturb [--seed N] [--multi-vector [--views LIST]]] [--cross-modal] [--plot FILE.png [--plot-with REPORT.json]...] [--json]",
		Help: "leave-one-out retrieval quality over labelled items (the labels set with `m3ret label`, or a CSV); " +
			"every figure over queries comes with its 95 % percentile-bootstrap interval (1,000 resamples of the queries " +
			"with replacement, fixed seed: the same interval on every run), as [lo, hi] in the text and as NAME_ci in --json",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.labels, "labels", "", "CSV of path,label[,modality] (relative paths are read from the CSV's folder); "+
				"without it, the labels set on the library's items")
			fs.IntVar(&o.k, "k", 10, "ranks scored by recall@k and mAP@k")
			fs.StringVar(&o.plot, "plot", "", "write a precision@k plot (PNG) to this file")
			fs.Var(&o.with, "plot-with", "also draw the curve of an earlier `m3ret eval --json` report (repeatable)")
			fs.BoolVar(&o.perturb, "perturb", false, "also query with a perturbed copy of each item (cropped to 70-90 %, mirrored, "+
				"rotated up to 20 degrees, gamma changed, noise): recall@1/@5 of its original, the same with the other items of "+
				"the original's label left out of the gallery (recall_at_1_other_labels; with a CSV labelling series, "+
				"the original's own series removed but for the original), mAP@k by label without it")
			fs.Uint64Var(&o.seed, "seed", 1, "seed of the perturbations")
			fs.BoolVar(&o.multiVector, "multi-vector", false, "with --perturb, also score against a gallery in which every item "+
				"has several vectors (the whole image, the centre and corner crops at 80 and 60 % of each side, the mirror), "+
				"each item ranked by its best match: the same figures, leave-one-out mAP@k, and the embedding time against one vector")
			fs.StringVar(&o.views, "views", "", "with --multi-vector, the gallery's views, comma-separated (default all: whole, "+
				"centre-80, top-left-80, top-right-80, bottom-left-80, bottom-right-80, the same at 60, mirror)")
			fs.BoolVar(&o.crossModal, "cross-modal", false, "also score each item against the items of other modalities only "+
				"(the CSV's third column, else the item's modality): mAP@k by label")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 && o.k >= 1 && (o.perturb || !o.multiVector) },
		Run:   func(e *cli.Env) int { return runEval(e, &o) }}
}

func runEval(e *cli.Env, o *evalOptions) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.labels == "" {
		return e.ReadSession(func(s *cli.Session) int {
			want, err := catalogLabels(s.Library())
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return evalLibrary(ctx, e, o, s, want)
		})
	}
	want, err := readLabels(o.labels)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	return e.ReadSession(func(s *cli.Session) int { return evalLibrary(ctx, e, o, s, want) })
}

// labelRow is what the labels say of one path: its label and, for the
// cross-modal test, its modality (empty: the item's own).
type labelRow struct{ label, modality string }

// catalogLabels returns the labels set on the library's items (`m3ret
// label`, or the window), by item path as readLabels gives them.
func catalogLabels(lib *library.Library) (map[string]labelRow, error) {
	labels, err := lib.Labels()
	if err != nil {
		return nil, err
	}
	items, err := lib.Items()
	if err != nil {
		return nil, err
	}
	want := map[string]labelRow{}
	for _, it := range items {
		if l := labels[it.ID]; l != "" {
			want[filepath.Clean(it.Path)] = labelRow{label: l}
		}
	}
	if len(want) == 0 {
		return nil, errors.New("no item of the library has a label: set some (m3ret label ITEM LABEL, or in the window), or give --labels FILE.csv")
	}
	return want, nil
}

func evalLibrary(ctx context.Context, e *cli.Env, o *evalOptions, s *cli.Session, want map[string]labelRow) int {
	items, err := labelledItems(s.Library(), want)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	vecs, labs, mods := columns(items)
	rep := evaluate(vecs, labs, o.k)
	rep.Model, rep.Missing = s.Enc.ModelID(), len(want)-len(vecs)
	rep.Vote = scoreVote(vecs, labs, o.k)
	if rep.Missing > 0 {
		fmt.Fprintf(e.Stderr, "m3ret: %d labelled paths are not in the library\n", rep.Missing)
	}
	if o.perturb {
		if err := perturbation(ctx, s.Library(), o, items, rep); err != nil {
			return cli.Fail(e.Stderr, err)
		}
	}
	if o.crossModal {
		rep.CrossModal = scoreCrossModal(vecs, labs, mods, o.k)
	}
	if o.plot != "" {
		curves, err := readCurves(o.with)
		if err != nil {
			return cli.Fail(e.Stderr, err)
		}
		curves = append([]curve{{modelName(rep.Model), rep.PrecisionAt}}, curves...)
		if err := writePlot(o.plot, curves); err != nil {
			return cli.Fail(e.Stderr, err)
		}
		if err := writeCalibration(calibrationPath(o.plot), rep.Vote); err != nil {
			return cli.Fail(e.Stderr, fmt.Errorf("calibration plot: %w", err))
		}
	}
	return e.Output(rep, func(w io.Writer) { printEval(w, rep) })
}

// perturbation fills the report's perturbation test and, with
// --multi-vector, its multi-vector one.
func perturbation(ctx context.Context, lib *library.Library, o *evalOptions, items []evalItem, rep *evalReport) error {
	vecs, labs, _ := columns(items)
	pert, err := perturbedVectors(ctx, lib, items, o.seed)
	if err != nil {
		return err
	}
	rep.Perturbation = scorePerturbed(vecs, pert, labs, o.k)
	rep.Perturbation.Seed = o.seed
	if !o.multiVector {
		return nil
	}
	views, err := pickViews(o.views)
	if err != nil {
		return err
	}
	gallery, spent, err := multiVectorGallery(ctx, lib, items, views)
	if err != nil {
		return err
	}
	rep.MultiVector = scoreMultiVector(vecs, gallery, pert, labs, o.k, views, spent)
	rep.MultiVector.Perturbation.Seed = o.seed
	return nil
}

// evalItem is a labelled library item with its stored vector.
type evalItem struct {
	item            library.Item
	vec             []float32
	label, modality string
}

// labelledItems returns the library items whose paths the labels name,
// with their stored vectors, labels and modalities (the labels' own, else
// the item's).
func labelledItems(lib *library.Library, want map[string]labelRow) ([]evalItem, error) {
	items, err := lib.Items()
	if err != nil {
		return nil, err
	}
	var out []evalItem
	found := map[string]bool{}
	for _, it := range items {
		p := filepath.Clean(it.Path)
		l, ok := want[p]
		if !ok || found[p] {
			continue
		}
		v, err := lib.Vector(it.ID)
		if err != nil {
			return nil, fmt.Errorf("vector of %s: %w", it.Path, err)
		}
		found[p] = true
		mod := l.modality
		if mod == "" {
			mod = it.Modality
		}
		out = append(out, evalItem{item: it, vec: v, label: l.label, modality: mod})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("none of the %d labelled paths is in the library %s (import them first)", len(want), lib.Dir())
	}
	return out, nil
}

// columns returns the items' vectors, labels and modalities.
func columns(items []evalItem) ([][]float32, []string, []string) {
	vecs, labs, mods := make([][]float32, len(items)), make([]string, len(items)), make([]string, len(items))
	for i, it := range items {
		vecs[i], labs[i], mods[i] = it.vec, it.label, it.modality
	}
	return vecs, labs, mods
}

// readLabels reads path,label rows, or path,label,modality rows (a header
// row "path,label[,modality]" is skipped); relative paths are taken from the
// CSV's folder.
func readLabels(path string) (map[string]labelRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	base := filepath.Dir(path)
	out := map[string]labelRow{}
	for i, row := range rows {
		if len(row) != 2 && len(row) != 3 {
			return nil, fmt.Errorf("labels %s: row %d: %d fields, want path,label[,modality]", path, i+1, len(row))
		}
		p, l, mod := strings.TrimSpace(row[0]), strings.TrimSpace(row[1]), ""
		if len(row) == 3 {
			mod = strings.TrimSpace(row[2])
		}
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
		out[filepath.Clean(abs)] = labelRow{label: l, modality: mod}
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
	return evaluateGallery(vecs, singles(vecs), labels, k)
}

// evaluateGallery is evaluate with each query's vector vecs[q] ranking the
// other items of gallery, each item by its best match over its vectors.
func evaluateGallery(vecs [][]float32, gallery [][][]float32, labels []string, k int) *evalReport {
	n := len(vecs)
	rep := &evalReport{Items: n, K: k, PerLabel: map[string]labelScore{}, PrecisionAt: make([]float64, k)}
	count := map[string]int{}
	for _, l := range labels {
		count[l]++
	}
	per := map[string]*scoreSum{}
	var all scoreSum
	var queries []scoreSum
	for q := 0; q < n; q++ {
		rel := count[labels[q]] - 1
		if rel == 0 {
			rep.Singletons++
			continue
		}
		a := scoreQuery(rankItems(vecs[q], gallery, func(j int) bool { return j != q }), labels, q, k, rel, rep.PrecisionAt)
		if per[labels[q]] == nil {
			per[labels[q]] = &scoreSum{}
		}
		per[labels[q]].add(a)
		all.add(a)
		queries = append(queries, a)
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
	rep.PrecisionA1CI = ci(field(queries, func(a scoreSum) float64 { return a.p1 }))
	rep.PrecisionA5CI = ci(field(queries, func(a scoreSum) float64 { return a.p5 }))
	rep.RecallAtKCI = ci(field(queries, func(a scoreSum) float64 { return a.rec }))
	rep.MAPAtKCI = ci(field(queries, func(a scoreSum) float64 { return a.ap }))
	return rep
}

// field is one figure of every query.
func field(queries []scoreSum, f func(scoreSum) float64) []float64 {
	out := make([]float64, len(queries))
	for i, a := range queries {
		out[i] = f(a)
	}
	return out
}

// scoreSum adds up the figures of queries (n of them).
type scoreSum struct{ n, p1, p5, rec, ap float64 }

func (s *scoreSum) add(a scoreSum) {
	s.n += a.n
	s.p1 += a.p1
	s.p5 += a.p5
	s.rec += a.rec
	s.ap += a.ap
}

// scoreQuery scores one query's ranking (rel relevant items) and adds its
// precision at 1..k to precisionAt.
func scoreQuery(order []int, labels []string, q, k, rel int, precisionAt []float64) scoreSum {
	hits, ap := 0, 0.0
	var p1 float64
	for r := 0; r < k; r++ {
		if r < len(order) && labels[order[r]] == labels[q] {
			hits++
			ap += float64(hits) / float64(r+1)
		}
		precisionAt[r] += float64(hits) / float64(r+1)
		if r == 0 {
			p1 = float64(hits)
		}
	}
	h5 := 0 // P@5 means the first five whatever k is
	for r := 0; r < 5 && r < len(order); r++ {
		if labels[order[r]] == labels[q] {
			h5++
		}
	}
	return scoreSum{1, p1, float64(h5) / 5, float64(hits) / float64(rel), ap / float64(min(k, rel))}
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
	fmt.Fprintf(w, "P@1 %s  P@5 %s  recall@%d %s  mAP@%d %s  (95 %% bootstrap intervals over the queries)\n",
		withCI(r.PrecisionA1, r.PrecisionA1CI), withCI(r.PrecisionA5, r.PrecisionA5CI), r.K, withCI(r.RecallAtK, r.RecallAtKCI),
		r.K, withCI(r.MAPAtK, r.MAPAtKCI))
	fmt.Fprintf(w, "%-28s %4s %6s %6s %8s %8s\n", "label", "n", "P@1", "P@5", "recall", "mAP")
	for _, l := range cli.SortedKeys(r.PerLabel) {
		s := r.PerLabel[l]
		fmt.Fprintf(w, "%-28s %4d %6.3f %6.3f %8.3f %8.3f\n", l, s.N, s.PrecisionA1, s.PrecisionA5, s.RecallAtK, s.MAPAtK)
	}
	if r.Vote != nil {
		printVote(w, r.Vote)
	}
	if r.Perturbation != nil {
		printPerturbation(w, r.Perturbation, r.K)
	}
	if r.MultiVector != nil {
		printMultiVector(w, r.MultiVector, r.K)
	}
	if r.CrossModal != nil {
		printCrossModal(w, r.CrossModal, r.K)
	}
}
