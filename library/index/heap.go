package index

import (
	"slices"
)

// cand is a node and its distance to the query.
type cand struct {
	d float32
	n int32
}

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

// heap is a binary heap of candidates, used either as a min-heap (pushMin,
// popMin) or as a max-heap (pushMax, popMax; the largest at [0]).
type heap []cand

func (h *heap) pushMin(c cand) { *h = append(*h, c); h.up(len(*h)-1, less) }
func (h *heap) pushMax(c cand) { *h = append(*h, c); h.up(len(*h)-1, greater) }
func (h *heap) popMin() cand   { return h.pop(less) }
func (h *heap) popMax() cand   { return h.pop(greater) }

func less(a, b cand) bool    { return a.d < b.d }
func greater(a, b cand) bool { return a.d > b.d }

func (h *heap) up(i int, before func(a, b cand) bool) {
	s := *h
	for i > 0 {
		p := (i - 1) / 2
		if !before(s[i], s[p]) {
			return
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *heap) pop(before func(a, b cand) bool) cand {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && before(s[l], s[m]) {
			m = l
		}
		if r < len(s) && before(s[r], s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// topK keeps the k best-scoring keys.
type topK[K comparable] struct {
	k   int
	top []Neighbour[K] // sorted best first
}

func newTopK[K comparable](k int) *topK[K] {
	return &topK[K]{k: k, top: make([]Neighbour[K], 0, max(k, 0)+1)}
}

func (t *topK[K]) offer(id K, s float32) {
	if t.k <= 0 || (len(t.top) == t.k && s <= t.top[t.k-1].Score) {
		return
	}
	at, _ := slices.BinarySearchFunc(t.top, s, func(h Neighbour[K], s float32) int {
		if h.Score > s {
			return -1
		}
		return 1
	})
	t.top = slices.Insert(t.top, at, Neighbour[K]{ID: id, Score: s})
	if len(t.top) > t.k {
		t.top = t.top[:t.k]
	}
}

func (t *topK[K]) hits() []Neighbour[K] { return t.top }
