package library

import (
	"context"
	"fmt"

	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// Result is one neighbour of a query.
type Result struct {
	Rank  int     `json:"rank"`
	Score float32 `json:"score"`
	Item  Item    `json:"item"`
}

// Query is a search: what was asked and what came back.
type Query struct {
	Sample *media.Sample // the decoded query (file queries only)
	ItemID string        // the library item queried (item queries only)
	// Vector is the query's embedding; Examples are the items added to it
	// as further positives (Refine).
	Vector   []float32
	Examples []string
	Results  []Result
	key      string // a file query's key for pair notes (see QueryKey)
}

// QueryFile decodes and embeds a file and returns its k nearest items that
// pass filter (a bleve query string; "" for all). The file need not be in
// the library; if it is, it comes back first.
func (l *Library) QueryFile(ctx context.Context, path string, k int, filter string) (*Query, error) {
	ctx = l.scratch(ctx)
	s, err := ingest.ReadFileContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read query: %w", err)
	}
	vec, res, err := l.embedSearch(ctx, s, k, filter)
	if vec == nil {
		return nil, err
	}
	key, kerr := fileKey(ctx, s, path)
	if kerr != nil {
		key = "" // no pair notes for it; the search stands
	}
	return &Query{Sample: s, Vector: vec, Results: res, key: key}, err
}

// embedSearch embeds s and searches with its vector under one model (a
// re-embed's switch waits for it); the vector is nil when embedding failed.
func (l *Library) embedSearch(ctx context.Context, s *media.Sample, k int, filter string) ([]float32, []Result, error) {
	l.spaceMu.RLock()
	defer l.spaceMu.RUnlock()
	vecs, err := l.emb.Embed(ctx, []media.Sample{*s})
	if err != nil {
		return nil, nil, fmt.Errorf("embed query: %w", err)
	}
	res, err := l.search(ctx, vecs[0], k, filter, "")
	return vecs[0], res, err
}

// QueryItem returns the k nearest items to a library item, the item itself
// left out.
func (l *Library) QueryItem(ctx context.Context, id string, k int, filter string) (*Query, error) {
	l.spaceMu.RLock()
	defer l.spaceMu.RUnlock()
	vec, err := l.cat.Vector(l.emb.ModelID(), id)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", id, err)
	}
	res, err := l.search(ctx, vec, k, filter, id)
	return &Query{ItemID: id, Vector: vec, Results: res}, err
}

// search asks the index in use (see UseIndex).
func (l *Library) search(ctx context.Context, vec []float32, k int, filter, exclude string) ([]Result, error) {
	return l.index().Search(ctx, vec, k, filter, exclude)
}

func (l *Library) searchLocal(vec []float32, k int, filter, exclude string) ([]Result, error) {
	var hits []index.Hit
	var err error
	switch {
	case filter != "":
		var match map[string]bool
		if match, err = l.meta.Match(filter); err != nil {
			return nil, err
		}
		hits, err = l.hybrid(vec, k, match, exclude)
	case exclude != "":
		hits, err = l.vectors().Search(vec, k, func(id string) bool { return id != exclude })
	default:
		hits, err = l.vectors().Search(vec, k, nil)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(hits))
	for _, h := range hits {
		it, err := l.cat.Get(h.ID)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Result{Rank: len(out) + 1, Score: h.Score, Item: it})
	}
	return out, nil
}
