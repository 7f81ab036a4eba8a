package index

// Remove deletes id and repairs the links of its neighbours: each one is
// relinked, with the heuristic, among its other neighbours and the removed
// node's.
func (h *Graph[K]) Remove(id K) {
	if h.waitKeys() != nil {
		return // a graph with a key twice is refused by Add: nothing to remove from
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.remove(id)
}

func (h *Graph[K]) remove(id K) {
	n, ok := h.pos[id]
	if !ok {
		return
	}
	delete(h.pos, id)
	h.gone[n] = true
	h.nGone++
	h.alive--
	s := h.searcher()
	defer h.pool.Put(s)
	for lc := 0; lc <= int(h.levels[n]); lc++ {
		for _, e := range h.linksOf(n, lc) {
			if !h.gone[e] && lc <= int(h.levels[e]) {
				h.repair(s, e, n, lc)
			}
		}
	}
	if h.entry == n {
		h.newEntry()
	}
}

// repair relinks e on layer lc after the removal of gone.
func (h *Graph[K]) repair(s *searcher, e, gone int32, lc int) {
	s.gen++
	if s.gen == 0 {
		clear(s.mark)
		s.gen = 1
	}
	s.visit(e)
	s.visit(gone)
	cands := s.shrink[:0]
	h.setNode(s, &s.nq, e)
	for _, src := range [][]int32{h.linksOf(e, lc), h.linksOf(gone, lc)} {
		for _, x := range src {
			if !s.visit(x) && !h.gone[x] && lc <= int(h.levels[x]) {
				cands = append(cands, cand{h.dist(&s.nq, x), x})
			}
		}
	}
	sortCands(cands)
	s.shrink = cands
	s.kept = h.selectHeuristic(s, s.kept[:0], cands, h.maxLinks(lc))
	h.setLinks(e, lc, s.kept)
}

func (h *Graph[K]) newEntry() {
	h.entry, h.top = -1, 0
	for n := range h.ids {
		if !h.gone[n] && (h.entry < 0 || int(h.levels[n]) > h.top) {
			h.entry, h.top = int32(n), int(h.levels[n])
		}
	}
}
