package index

import (
	"fmt"
	"slices"
)

// searcher is one search's or one insertion's working memory, pooled so a
// query allocates nothing but its result.
type searcher struct {
	gen    uint32
	mark   []uint32 // node -> generation that visited it
	cands  minHeap
	res    maxHeap
	out    []cand // searchLayer's result, nearest first
	eps    []cand
	q      query // the query or the vector being inserted
	nq     query // a node's own vector, for distances between nodes
	dec    []float32
	links  []int32
	neigh  []int32
	kept   []int32
	shrink []cand
}

// searcher takes a searcher from the pool, sized for the graph, with a
// fresh generation.
func (h *Graph[K]) searcher() *searcher {
	s, _ := h.pool.Get().(*searcher)
	if s == nil {
		s = &searcher{}
	}
	if len(s.mark) < len(h.ids) {
		s.mark = make([]uint32, len(h.ids)+len(h.ids)/4+64)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 {
		clear(s.mark)
		s.gen = 1
	}
	return s
}

// visit marks n and reports whether it was already marked.
func (s *searcher) visit(n int32) bool {
	if s.mark[n] == s.gen {
		return true
	}
	s.mark[n] = s.gen
	return false
}

// neighbours is node n's links on layer lc; during AddBatch a copy taken
// under the node's lock.
func (h *Graph[K]) neighbours(s *searcher, n int32, lc int) []int32 {
	if !h.par {
		return h.linksOf(n, lc)
	}
	h.lock(n)
	s.links = append(s.links[:0], h.linksOf(n, lc)...)
	h.unlock(n)
	return s.links
}

// greedy walks layer lc from ep to the local nearest node (ef = 1).
func (h *Graph[K]) greedy(s *searcher, q *query, ep int32, lc int) int32 {
	best, bd := ep, h.dist(q, ep)
	for changed := true; changed; {
		changed = false
		for _, x := range h.neighbours(s, best, lc) {
			if (h.nGone > 0 && h.gone[x]) || h.skip(x) {
				continue
			}
			if d := h.dist(q, x); d < bd {
				best, bd, changed = x, d, true
			}
		}
	}
	return best
}

// searchLayer is Algorithm 2: the ef nearest nodes to q on layer lc,
// nearest first, in s.out. keep, when set, limits the results (not the
// walk). The next candidates' vectors are prefetched while one is scored.
func (h *Graph[K]) searchLayer(s *searcher, eps []cand, ef, lc int, keep func(int32) bool) []cand {
	s.gen++
	if s.gen == 0 {
		clear(s.mark)
		s.gen = 1
	}
	q := &s.q
	s.cands, s.res = s.cands[:0], s.res[:0]
	for _, e := range eps {
		s.visit(e.n)
		s.cands.push(e)
		if !h.gone[e.n] && (keep == nil || keep(e.n)) {
			s.res.push(e)
		}
	}
	removed := h.nGone > 0
	for len(s.cands) > 0 {
		c := s.cands.pop()
		if len(s.res) >= ef && c.d > s.res[0].d {
			break
		}
		links := h.neighbours(s, c.n, lc)
		if len(links) > 0 {
			prefetch(h.vecAddr(links[0]))
		}
		for i, x := range links {
			if i+1 < len(links) {
				prefetch(h.vecAddr(links[i+1]))
			}
			if s.visit(x) || (removed && h.gone[x]) || h.skip(x) {
				continue
			}
			d := h.dist(q, x)
			if len(s.res) < ef || d < s.res[0].d {
				s.cands.push(cand{d, x})
				if keep == nil || keep(x) {
					s.res.push(cand{d, x})
					if len(s.res) > ef {
						s.res.pop()
					}
				}
			}
		}
	}
	s.out = append(s.out[:0], s.res...)
	sortCands(s.out)
	return s.out
}

// Search returns the k nearest ids that keep accepts, best first. A
// quantized graph walks its codes, then re-ranks the ef best exactly.
func (h *Graph[K]) Search(query []float32, k int, keep func(K) bool) ([]Neighbour[K], error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.alive == 0 || k <= 0 {
		return nil, nil
	}
	if len(query) != h.dim {
		return nil, fmt.Errorf("search %d-d query in %d-d index: %w", len(query), h.dim, ErrDimension)
	}
	s := h.searcher()
	defer h.pool.Put(s)
	w := h.walk(s, query, max(k, int(h.ef.Load())), keep)
	if h.quant != nil {
		for i := range w {
			w[i].d = 1 - dotF32(query, h.raw.vec(w[i].n))
		}
		sortCands(w)
	}
	hits := make([]Neighbour[K], 0, min(k, len(w)))
	for _, c := range w[:min(k, len(w))] {
		hits = append(hits, Neighbour[K]{ID: h.ids[c.n], Score: 1 - c.d})
	}
	return hits, nil
}

// walk descends the upper layers greedily and searches layer 0 with ef.
func (h *Graph[K]) walk(s *searcher, query []float32, ef int, keep func(K) bool) []cand {
	q := &s.q
	h.setQuery(q, query)
	ep := h.entry
	for lc := h.top; lc > 0; lc-- {
		ep = h.greedy(s, q, ep, lc)
	}
	var kf func(int32) bool
	if keep != nil {
		kf = func(n int32) bool { return keep(h.ids[n]) }
	}
	s.eps = append(s.eps[:0], cand{h.dist(q, ep), ep})
	return h.searchLayer(s, s.eps, ef, 0, kf)
}

// SearchCodes is Search without the exact re-ranking (the quantized
// graph's own order, for measuring what re-ranking adds).
func (h *Graph[K]) SearchCodes(query []float32, k int) []K {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.alive == 0 || len(query) != h.dim {
		return nil
	}
	s := h.searcher()
	defer h.pool.Put(s)
	w := h.walk(s, query, max(k, int(h.ef.Load())), nil)
	out := make([]K, 0, k)
	for _, c := range w[:min(k, len(w))] {
		out = append(out, h.ids[c.n])
	}
	return out
}

// Score ranks the given ids exactly (the path for small candidate sets).
func (h *Graph[K]) Score(query []float32, ids []K, k int) ([]Neighbour[K], error) {
	if err := h.waitKeys(); err != nil {
		return nil, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(query) != h.dim && h.alive > 0 {
		return nil, fmt.Errorf("search %d-d query in %d-d index: %w", len(query), h.dim, ErrDimension)
	}
	top := newTopK[K](k)
	for _, id := range ids {
		if n, ok := h.pos[id]; ok {
			top.offer(id, dotF32(query, h.exact(n)))
		}
	}
	return top.hits(), nil
}

// sortCands orders candidates nearest first (ties by node).
func sortCands(c []cand) {
	slices.SortFunc(c, func(a, b cand) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return int(a.n - b.n)
	})
}
