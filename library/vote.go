package library

import "sort"

// LabelShare is one label's part of a neighbour vote.
type LabelShare struct {
	Label string  `json:"label"`
	Share float64 `json:"share"`
}

// VoteResult is the label distribution among a query's neighbours.
type VoteResult struct {
	K          int          // neighbours that voted (labelled or not)
	Labelled   int          // neighbours carrying a label
	Unlabelled int          // neighbours without one
	Shares     []LabelShare // by share, largest first, then by label; sums to 1 when Labelled > 0
}

// Vote is the similarity-weighted label distribution among results: each
// label weighs the sum of the scores of the neighbours carrying it, and the
// weights are normalised to shares summing to 1 over the labelled
// neighbours. A score below 0 (cosine similarity can be negative) or NaN
// counts as 0: an unlike neighbour does not vote against its label. When
// every labelled neighbour's score is 0 or less, each counts 1 instead (the
// shares are the labels' counts). Neighbours without a label in labels are
// counted apart and take no part in the shares.
func Vote(results []Result, labels map[string]string) VoteResult {
	v := VoteResult{K: len(results)}
	weight, count := map[string]float64{}, map[string]float64{}
	var total float64
	for _, r := range results {
		lab := labels[r.Item.ID]
		if lab == "" {
			v.Unlabelled++
			continue
		}
		v.Labelled++
		w := float64(r.Score)
		if !(w > 0) {
			w = 0
		}
		weight[lab] += w
		count[lab]++
		total += w
	}
	if total == 0 {
		weight, total = count, float64(v.Labelled)
	}
	for lab, w := range weight {
		v.Shares = append(v.Shares, LabelShare{lab, w / total})
	}
	sort.Slice(v.Shares, func(i, j int) bool {
		a, b := v.Shares[i], v.Shares[j]
		if a.Share != b.Share {
			return a.Share > b.Share
		}
		return a.Label < b.Label
	})
	return v
}

// Winner is the label with the largest share (ties go to the label first
// in byte order); ok is false when no neighbour is labelled.
func (v VoteResult) Winner() (LabelShare, bool) {
	if len(v.Shares) == 0 {
		return LabelShare{}, false
	}
	return v.Shares[0], true
}

// Other is the label Fold gives the labels folded together.
const Other = "other"

// Fold keeps the labels whose share is at least threshold and folds the rest
// into one "other" share, last (left out when nothing is folded).
func (v VoteResult) Fold(threshold float64) []LabelShare {
	var out []LabelShare
	var other float64
	folded := false
	for _, s := range v.Shares {
		if s.Share >= threshold {
			out = append(out, s)
			continue
		}
		other += s.Share
		folded = true
	}
	if folded {
		out = append(out, LabelShare{Other, other})
	}
	return out
}
