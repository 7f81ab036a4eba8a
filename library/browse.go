package library

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// Match returns the ids of the items that pass a bleve query string (the
// filter syntax of the search box and `m3ret query --filter`).
func (l *Library) Match(filter string) (map[string]bool, error) {
	return l.meta.Match(filter)
}

// loadItem decodes an item's sources: every file of a series, in order, so
// a volume comes back whole (thinned as at import when it is very long).
func loadItem(ctx context.Context, it Item) (*media.Sample, error) {
	if len(it.Files) <= 1 {
		return ingest.ReadFileContext(ctx, it.Path)
	}
	units, problems := ingest.Plan(ctx, it.Files, nil, nil)
	var best *ingest.Unit
	for i := range units {
		if best == nil || len(units[i].Paths) > len(best.Paths) {
			best = &units[i]
		}
	}
	if best == nil {
		if len(problems) > 0 {
			return nil, problems[0].Err
		}
		return nil, errors.New("no readable slices")
	}
	return best.Read(ctx)
}

// QuerySample embeds a sample that is not in the library (a region cut
// from a slice, say) and returns its k nearest items that pass filter.
func (l *Library) QuerySample(ctx context.Context, s *media.Sample, k int, filter string) (*Query, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("query sample: %w", err)
	}
	vec, res, err := l.embedSearch(ctx, s, k, filter)
	if vec == nil {
		return nil, err
	}
	return &Query{Sample: s, Vector: vec, Results: res}, err
}

// Refine searches again with an item added to the query as another
// positive example: the new query vector is the mean of the examples (the
// query counts as many as it already holds), normalised. The examples that
// are library items are left out of the results.
func (l *Library) Refine(ctx context.Context, q *Query, id string, k int, filter string) (*Query, error) {
	if len(q.Vector) == 0 {
		return nil, errors.New("refine: the query has no vector")
	}
	l.spaceMu.RLock()
	defer l.spaceMu.RUnlock()
	add, err := l.cat.Vector(l.emb.ModelID(), id)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", id, err)
	}
	if len(add) != len(q.Vector) {
		return nil, fmt.Errorf("refine: %w since this search; search again", ErrModelChanged)
	}
	n := float32(max(1, 1+len(q.Examples)))
	vec := make([]float32, len(q.Vector))
	var norm float64
	for i := range vec {
		vec[i] = q.Vector[i]*n + add[i]
		norm += float64(vec[i]) * float64(vec[i])
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range vec {
			vec[i] *= inv
		}
	}
	out := &Query{Sample: q.Sample, ItemID: q.ItemID, Vector: vec, Examples: append(append([]string{}, q.Examples...), id)}
	skip := map[string]bool{q.ItemID: true}
	for _, e := range out.Examples {
		skip[e] = true
	}
	res, err := l.search(ctx, vec, k+len(skip), filter, q.ItemID)
	kept := res[:0]
	for _, r := range res {
		if !skip[r.Item.ID] && len(kept) < k {
			r.Rank = len(kept) + 1
			kept = append(kept, r)
		}
	}
	out.Results = kept
	return out, err
}
