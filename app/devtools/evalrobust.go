package devtools

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/perturb"
)

// perturbReport is the robustness test of `m3ret eval --perturb`: every
// labelled item is queried by a perturbed copy of itself (perturb.Default,
// drawn from the seed and the item's content hash) against the stored
// vectors of all the labelled items.
type perturbReport struct {
	Seed      uint64  `json:"seed"`
	N         int     `json:"n"`           // perturbed copies that queried
	RecallAt1 float64 `json:"recall_at_1"` // share of copies whose original ranks first
	RecallAt5 float64 `json:"recall_at_5"` // ... among the first five
	MAPN      int     `json:"map_n"`       // copies with another item of their label
	MAPAtK    float64 `json:"map_at_k"`    // by label, the original left out of the ranking
	// The 95 % bootstrap intervals (see bootstrapCI) of the figures above
	// and below.
	RecallAt1CI      interval `json:"recall_at_1_ci"`
	RecallAt5CI      interval `json:"recall_at_5_ci"`
	MAPAtKCI         interval `json:"map_at_k_ci"`
	RecallAt1ApartCI interval `json:"recall_at_1_other_labels_ci"`
	RecallAt5ApartCI interval `json:"recall_at_5_other_labels_ci"`
	// RecallAt1Apart and RecallAt5Apart rank the original in a gallery
	// without the other items of its label: with the series labels, the
	// original's own series is removed but for the original itself, so a
	// copy whose original loses only to its neighbouring slices counts as
	// found.
	// Against recall@1/@5 they tell how much of the loss is near-duplicates
	// (the next slice of the same series) rather than other content.
	RecallAt1Apart float64 `json:"recall_at_1_other_labels"`
	RecallAt5Apart float64 `json:"recall_at_5_other_labels"`
	Changes        string  `json:"changes"` // what the copies went through
}

// crossModalReport is the test of `m3ret eval --cross-modal`: every
// labelled item queries only the items of the other modalities; the same
// label counts as relevant. A query whose gallery holds no relevant item,
// or nothing else, scores alike for every model and is only counted.
type crossModalReport struct {
	N             int                      `json:"n"`             // items with relevant and other items in other modalities
	NoRelevant    int                      `json:"no_relevant"`   // items whose label no other modality holds
	OnlyRelevant  int                      `json:"only_relevant"` // items whose label is all the other modalities hold
	Modalities    []string                 `json:"modalities"`
	PrecisionA1   float64                  `json:"precision_at_1"`
	MAPAtK        float64                  `json:"map_at_k"`
	PrecisionA1CI interval                 `json:"precision_at_1_ci"` // 95 % bootstrap intervals (bootstrapCI)
	MAPAtKCI      interval                 `json:"map_at_k_ci"`
	PerModality   map[string]modalityScore `json:"per_modality"` // by the query's modality
}

type modalityScore struct {
	N           int     `json:"n"`
	PrecisionA1 float64 `json:"precision_at_1"`
	MAPAtK      float64 `json:"map_at_k"`
}

// perturbedVectors loads every item, perturbs it (every slice or frame
// alike) and embeds the copies, a batch at a time.
func perturbedVectors(ctx context.Context, lib *library.Library, items []evalItem, seed uint64) ([][]float32, error) {
	const batch = 16
	out := make([][]float32, 0, len(items))
	var pending []media.Sample
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		vecs, err := lib.Embed(ctx, pending)
		out, pending = append(out, vecs...), pending[:0]
		return err
	}
	for _, it := range items {
		s, err := lib.Load(ctx, it.item.ID)
		if err != nil {
			return nil, fmt.Errorf("perturb: %w", err)
		}
		p, err := perturb.Apply(s, perturb.Default.Draw(itemRand(seed, it.item)))
		if err != nil {
			return nil, fmt.Errorf("perturb %s: %w", it.item.ID, err)
		}
		if pending = append(pending, *p); len(pending) == batch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return out, flush()
}

// itemRand is the item's own random stream: the same copy whatever the
// order of the items, the machine or the path the file was imported from.
func itemRand(seed uint64, it library.Item) *rand.Rand {
	h := fnv.New64a()
	key := it.Hash
	if key == "" {
		key = it.Path
	}
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// scorePerturbed scores the copies' vectors pert against the originals'
// vecs: where each copy's own original ranks (recall@1, @5), the same with
// the original's label left out of the gallery but for the original
// itself, and AP@k by label over the ranking with the original taken out.
func scorePerturbed(vecs, pert [][]float32, labels []string, k int) *perturbReport {
	return scorePerturbedGallery(singles(vecs), pert, labels, k)
}

// scorePerturbedGallery is scorePerturbed against a gallery of items with
// one or more vectors each (see rankItems).
func scorePerturbedGallery(gallery [][][]float32, pert [][]float32, labels []string, k int) *perturbReport {
	return perturbedQueries(gallery, pert, labels, k).report()
}

// perQuery are the perturbation test's scores, one per copy (ap: one per
// copy with another item of its label).
type perQuery struct{ r1, r5, a1, a5, ap []float64 }

func perturbedQueries(gallery [][][]float32, pert [][]float32, labels []string, k int) perQuery {
	count := labelCounts(labels)
	n := len(pert)
	s := perQuery{r1: make([]float64, n), r5: make([]float64, n), a1: make([]float64, n), a5: make([]float64, n)}
	for q := range pert {
		s.r1[q], s.r5[q] = foundAt(rankItems(pert[q], gallery, func(int) bool { return true }), q)
		s.a1[q], s.a5[q] = foundAt(rankItems(pert[q], gallery, func(j int) bool { return j == q || labels[j] != labels[q] }), q)
		rel := count[labels[q]] - 1
		if rel == 0 {
			continue
		}
		order := rankItems(pert[q], gallery, func(j int) bool { return j != q })
		s.ap = append(s.ap, averagePrecision(order, func(j int) bool { return labels[j] == labels[q] }, k, rel))
	}
	return s
}

func (s perQuery) report() *perturbReport {
	rep := &perturbReport{N: len(s.r1), Changes: describe(perturb.Default)}
	rep.RecallAt1, rep.RecallAt1CI = mean(s.r1), ci(s.r1)
	rep.RecallAt5, rep.RecallAt5CI = mean(s.r5), ci(s.r5)
	rep.RecallAt1Apart, rep.RecallAt1ApartCI = mean(s.a1), ci(s.a1)
	rep.RecallAt5Apart, rep.RecallAt5ApartCI = mean(s.a5), ci(s.a5)
	rep.MAPN, rep.MAPAtK, rep.MAPAtKCI = len(s.ap), mean(s.ap), ci(s.ap)
	return rep
}

// foundAt says whether q is first in order, and whether among the first five.
func foundAt(order []int, q int) (at1, at5 float64) {
	switch pos := indexOf(order, q); {
	case pos == 0:
		return 1, 1
	case pos > 0 && pos < 5:
		return 0, 1
	}
	return 0, 0
}

// mean is the mean of x, 0 for none.
func mean(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// scoreCrossModal scores each item querying only the items of other
// modalities (relevant: the same label). An item whose label no other
// modality holds does not query, nor one whose label is all they hold.
func scoreCrossModal(vecs [][]float32, labels, modalities []string, k int) *crossModalReport {
	rep := &crossModalReport{PerModality: map[string]modalityScore{}}
	seen := map[string]bool{}
	var p1, ap []float64
	for q := range vecs {
		if !seen[modalities[q]] {
			seen[modalities[q]] = true
			rep.Modalities = append(rep.Modalities, modalities[q])
		}
		other := func(j int) bool { return modalities[j] != modalities[q] }
		rel, irr := 0, 0
		for j := range vecs {
			switch {
			case !other(j):
			case labels[j] == labels[q]:
				rel++
			default:
				irr++
			}
		}
		if rel == 0 {
			rep.NoRelevant++
			continue
		}
		if irr == 0 {
			rep.OnlyRelevant++
			continue
		}
		order := rankBy(vecs[q], vecs, other)
		a := averagePrecision(order, func(j int) bool { return labels[j] == labels[q] }, k, rel)
		hit := 0.0
		if labels[order[0]] == labels[q] {
			hit = 1
		}
		p1, ap = append(p1, hit), append(ap, a)
		m := rep.PerModality[modalities[q]]
		m.N, m.PrecisionA1, m.MAPAtK = m.N+1, m.PrecisionA1+hit, m.MAPAtK+a
		rep.PerModality[modalities[q]] = m
	}
	sort.Strings(rep.Modalities)
	for name, m := range rep.PerModality {
		m.PrecisionA1, m.MAPAtK = m.PrecisionA1/float64(m.N), m.MAPAtK/float64(m.N)
		rep.PerModality[name] = m
	}
	rep.N = len(p1)
	rep.PrecisionA1, rep.PrecisionA1CI = mean(p1), ci(p1)
	rep.MAPAtK, rep.MAPAtKCI = mean(ap), ci(ap)
	return rep
}

// rankBy returns the items j with keep(j), most similar to q first (ties
// in item order).
func rankBy(q []float32, vecs [][]float32, keep func(j int) bool) []int {
	return rankItems(q, singles(vecs), keep)
}

// rankItems returns the items j of gallery with keep(j), most similar to q
// first (ties in item order). An item is scored by its best match, the
// highest cosine over its vectors, and appears once however many it has.
func rankItems(q []float32, gallery [][][]float32, keep func(j int) bool) []int {
	var order []int
	score := make([]float64, len(gallery))
	for j, vs := range gallery {
		if keep(j) {
			order = append(order, j)
			score[j] = bestMatch(q, vs)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return score[order[a]] > score[order[b]] })
	return order
}

// bestMatch is the highest cosine of q with any of vs (-Inf for none).
func bestMatch(q []float32, vs [][]float32) float64 {
	best := math.Inf(-1)
	for _, v := range vs {
		best = math.Max(best, dot(q, v))
	}
	return best
}

// singles is a gallery of one vector per item.
func singles(vecs [][]float32) [][][]float32 {
	out := make([][][]float32, len(vecs))
	for i, v := range vecs {
		out[i] = [][]float32{v}
	}
	return out
}

// averagePrecision is AP@k of a ranking with rel relevant items in all:
// the sum over the relevant ranks r <= k of precision@r, / min(k, rel).
func averagePrecision(order []int, relevant func(j int) bool, k, rel int) float64 {
	hits, sum := 0, 0.0
	for r := 0; r < k && r < len(order); r++ {
		if relevant(order[r]) {
			hits++
			sum += float64(hits) / float64(r+1)
		}
	}
	return sum / float64(min(k, rel))
}

func labelCounts(labels []string) map[string]int {
	count := map[string]int{}
	for _, l := range labels {
		count[l]++
	}
	return count
}

func indexOf(order []int, q int) int {
	for i, j := range order {
		if j == q {
			return i
		}
	}
	return -1
}

func describe(r perturb.Ranges) string {
	mirror := ""
	if r.Mirror {
		mirror = "mirrored, "
	}
	return fmt.Sprintf("cropped to %.0f-%.0f %% of each side, %srotated up to %.0f degrees either way, gamma %.2f-%.2f or its inverse, "+
		"Gaussian noise of %.0f-%.0f %% of the 1st-99th percentile range; every slice or frame alike",
		100*r.CropMin, 100*r.CropMax, mirror, r.MaxAngle, math.Exp(r.GammaMin), math.Exp(r.GammaMax), 100*r.NoiseMin, 100*r.NoiseMax)
}

func printPerturbation(w io.Writer, p *perturbReport, k int) {
	fmt.Fprintf(w, "perturbed copies (seed %d; %s):\n", p.Seed, p.Changes)
	fmt.Fprintf(w, "  %d queries: recall@1 %s  recall@5 %s of the original; mAP@%d %s by label without it (%d queries)\n",
		p.N, withCI(p.RecallAt1, p.RecallAt1CI), withCI(p.RecallAt5, p.RecallAt5CI), k, withCI(p.MAPAtK, p.MAPAtKCI), p.MAPN)
	fmt.Fprintf(w, "  the original's label left out of the gallery but for the original: recall@1 %s  recall@5 %s\n",
		withCI(p.RecallAt1Apart, p.RecallAt1ApartCI), withCI(p.RecallAt5Apart, p.RecallAt5ApartCI))
}

func printCrossModal(w io.Writer, c *crossModalReport, k int) {
	fmt.Fprintf(w, "cross-modal (the query's modality left out of the gallery): %d queries; not scored: %d with no relevant item "+
		"elsewhere, %d with nothing else there\n", c.N, c.NoRelevant, c.OnlyRelevant)
	fmt.Fprintf(w, "  P@1 %s  mAP@%d %s\n", withCI(c.PrecisionA1, c.PrecisionA1CI), k, withCI(c.MAPAtK, c.MAPAtKCI))
	for _, m := range cli.SortedKeys(c.PerModality) {
		s := c.PerModality[m]
		fmt.Fprintf(w, "  %-26s %4d  P@1 %.3f  mAP@%d %.3f\n", m, s.N, s.PrecisionA1, k, s.MAPAtK)
	}
}
