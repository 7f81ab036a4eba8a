package devtools

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/perturb"
)

// galleryView is one of the vectors a gallery item is represented by in
// `m3ret eval --multi-vector`: the item's pixels reframed by p (a crop, a
// mirror; every slice or frame of a volume or video alike) and embedded.
type galleryView struct {
	name string
	p    perturb.Params
}

// multiViews are the vectors of each gallery item with --multi-vector:
// the whole image (the stored vector), the centre and the four corner
// crops at 80 % and at 60 % of each side, and the mirrored whole image.
var multiViews = append(append(append([]galleryView{{"whole", perturb.Identity}},
	cropViews(0.8)...), cropViews(0.6)...), galleryView{"mirror", mirrored(perturb.Identity)})

// pickViews returns the views named in list (comma-separated names of
// multiViews), all of them for "".
func pickViews(list string) ([]galleryView, error) {
	if list == "" {
		return multiViews, nil
	}
	var out []galleryView
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(multiViews, func(v galleryView) bool { return v.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("multi-vector: no view %q (the views: %s)", name, strings.Join(viewNames(multiViews), ","))
		}
		out = append(out, multiViews[i])
	}
	return out, nil
}

func viewNames(views []galleryView) []string {
	out := make([]string, len(views))
	for i, v := range views {
		out[i] = v.name
	}
	return out
}

// cropViews are the centre and the four corner crops keeping frac of each side.
func cropViews(frac float64) []galleryView {
	at := []struct {
		name   string
		x0, y0 float64
	}{{"centre", 0.5, 0.5}, {"top-left", 0, 0}, {"top-right", 1, 0}, {"bottom-left", 0, 1}, {"bottom-right", 1, 1}}
	out := make([]galleryView, len(at))
	for i, a := range at {
		p := perturb.Identity
		p.Crop, p.X0, p.Y0 = frac, a.x0, a.y0
		out[i] = galleryView{fmt.Sprintf("%s-%.0f", a.name, 100*frac), p}
	}
	return out
}

func mirrored(p perturb.Params) perturb.Params {
	p.Mirror = true
	return p
}

// multiVectorReport is the test of `m3ret eval --perturb --multi-vector`:
// the same perturbed copies, and the same leave-one-out queries by label
// (each item's stored whole-image vector), against a gallery in which every
// item has the vectors of multiViews, scored by its best match.
type multiVectorReport struct {
	Views          []string `json:"views"`
	VectorsPerItem int      `json:"vectors_per_item"` // the index holds this many times today's vectors
	// Seconds spent embedding the gallery: the whole images alone (what
	// one vector per item costs) and every view, and their ratio.
	EmbedSecondsSingle float64        `json:"embed_seconds_single"`
	EmbedSecondsMulti  float64        `json:"embed_seconds_multi"`
	EmbedRatio         float64        `json:"embed_ratio"`
	Perturbation       *perturbReport `json:"perturbation"`
	// Leave-one-out by label (as the report's own map_at_k, over N queries).
	N        int      `json:"n"`
	MAPAtK   float64  `json:"map_at_k"`
	MAPAtKCI interval `json:"map_at_k_ci"`
	// Gain is each figure's multi-vector value minus its single-vector one,
	// by the figure's JSON name ("loo_map_at_k": leave-one-out), with the
	// 95 % paired bootstrap interval of the per-query differences.
	Gain map[string]gain `json:"gain"`
}

// gain is a paired difference of means with its bootstrap interval.
type gain struct {
	Mean float64  `json:"mean"`
	CI   interval `json:"ci"`
}

// pairedGain is the mean of multi[i] - single[i] with its interval.
func pairedGain(single, multi []float64) gain {
	d := make([]float64, len(multi))
	for i := range d {
		d[i] = multi[i] - single[i]
	}
	return gain{mean(d), ci(d)}
}

// looAP is AP@k of every leave-one-out query by label: vecs[q] ranking the
// other items of gallery.
func looAP(vecs [][]float32, gallery [][][]float32, labels []string, k int) []float64 {
	count := labelCounts(labels)
	var ap []float64
	for q := range vecs {
		if rel := count[labels[q]] - 1; rel > 0 {
			order := rankItems(vecs[q], gallery, func(j int) bool { return j != q })
			ap = append(ap, averagePrecision(order, func(j int) bool { return labels[j] == labels[q] }, k, rel))
		}
	}
	return ap
}

// multiVectorGallery loads every item, embeds its views (a batch of items
// at a time, one view after another) and returns each item's vectors, the
// stored vector standing for the whole view, with the seconds spent in
// embedding each view.
func multiVectorGallery(ctx context.Context, lib *library.Library, items []evalItem, views []galleryView) ([][][]float32, []time.Duration, error) {
	const batch = 16
	gallery := make([][][]float32, len(items))
	spent := make([]time.Duration, len(views))
	for lo := 0; lo < len(items); lo += batch {
		chunk := items[lo:min(lo+batch, len(items))]
		samples := make([]*media.Sample, len(chunk))
		for i, it := range chunk {
			s, err := lib.Load(ctx, it.item.ID)
			if err != nil {
				return nil, nil, fmt.Errorf("multi-vector: %w", err)
			}
			samples[i] = s
		}
		for v, view := range views {
			vecs, took, err := embedView(ctx, lib, samples, view)
			if err != nil {
				return nil, nil, err
			}
			spent[v] += took
			for i, vec := range vecs {
				if view.p == perturb.Identity {
					vec = chunk[i].vec // today's vector, so the gallery holds the single-vector one
				}
				gallery[lo+i] = append(gallery[lo+i], vec)
			}
		}
	}
	return gallery, spent, nil
}

// embedView embeds one view of the samples; the time is the embedding's
// alone.
func embedView(ctx context.Context, lib *library.Library, samples []*media.Sample, view galleryView) ([][]float32, time.Duration, error) {
	copies := make([]media.Sample, len(samples))
	for i, s := range samples {
		c, err := perturb.Apply(s, view.p)
		if err != nil {
			return nil, 0, fmt.Errorf("multi-vector view %s: %w", view.name, err)
		}
		copies[i] = *c
	}
	start := time.Now()
	vecs, err := lib.Embed(ctx, copies)
	if err != nil {
		return nil, 0, fmt.Errorf("multi-vector view %s: %w", view.name, err)
	}
	return vecs, time.Since(start), nil
}

// scoreMultiVector scores the perturbed copies pert and the leave-one-out
// queries vecs against gallery, whose views spent the embedding times.
func scoreMultiVector(vecs [][]float32, gallery [][][]float32, pert [][]float32, labels []string, k int, views []galleryView, spent []time.Duration) *multiVectorReport {
	one, many := perturbedQueries(singles(vecs), pert, labels, k), perturbedQueries(gallery, pert, labels, k)
	rep := &multiVectorReport{VectorsPerItem: len(views), Perturbation: many.report(), Views: viewNames(views)}
	for v, view := range views {
		rep.EmbedSecondsMulti += spent[v].Seconds()
		if view.p == perturb.Identity {
			rep.EmbedSecondsSingle += spent[v].Seconds()
		}
	}
	if rep.EmbedSecondsSingle > 0 {
		rep.EmbedRatio = rep.EmbedSecondsMulti / rep.EmbedSecondsSingle
	}
	looOne, looMany := looAP(vecs, singles(vecs), labels, k), looAP(vecs, gallery, labels, k)
	rep.N, rep.MAPAtK, rep.MAPAtKCI = len(looMany), mean(looMany), ci(looMany)
	rep.Gain = map[string]gain{
		"recall_at_1": pairedGain(one.r1, many.r1), "recall_at_5": pairedGain(one.r5, many.r5),
		"recall_at_1_other_labels": pairedGain(one.a1, many.a1), "recall_at_5_other_labels": pairedGain(one.a5, many.a5),
		"map_at_k": pairedGain(one.ap, many.ap), "loo_map_at_k": pairedGain(looOne, looMany),
	}
	return rep
}

func printMultiVector(w io.Writer, m *multiVectorReport, k int) {
	p := m.Perturbation
	fmt.Fprintf(w, "multi-vector gallery (%d vectors per item, best match per item: %s):\n", m.VectorsPerItem, strings.Join(m.Views, ", "))
	fmt.Fprintf(w, "  %d perturbed queries: recall@1 %s  recall@5 %s of the original; mAP@%d %s by label without it (%d queries)\n",
		p.N, withCI(p.RecallAt1, p.RecallAt1CI), withCI(p.RecallAt5, p.RecallAt5CI), k, withCI(p.MAPAtK, p.MAPAtKCI), p.MAPN)
	fmt.Fprintf(w, "  the original's label left out of the gallery but for the original: recall@1 %s  recall@5 %s\n",
		withCI(p.RecallAt1Apart, p.RecallAt1ApartCI), withCI(p.RecallAt5Apart, p.RecallAt5ApartCI))
	fmt.Fprintf(w, "  leave-one-out by label (the whole-image vector queries): %d queries, mAP@%d %s\n", m.N, k, withCI(m.MAPAtK, m.MAPAtKCI))
	fmt.Fprintf(w, "  multi minus single (paired intervals):")
	for _, name := range cli.SortedKeys(m.Gain) {
		fmt.Fprintf(w, " %s %+.3f [%+.2f, %+.2f]", name, m.Gain[name].Mean, m.Gain[name].CI[0], m.Gain[name].CI[1])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  embedding the gallery: %.1f s for the whole images, %.1f s for every view (%.1fx)\n",
		m.EmbedSecondsSingle, m.EmbedSecondsMulti, m.EmbedRatio)
}
