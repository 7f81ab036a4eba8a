package index

import (
	"slices"
)

// cand is a node and its distance to the query.
type cand struct {
	d float32
	n int32
}

// minHeap and maxHeap are binary heaps of candidates, nearest and farthest
// at [0]; written out for each order so the comparisons inline.
type (
	minHeap []cand
	maxHeap []cand
)

func (h *minHeap) push(c cand) {
	s := append(*h, c)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].d <= c.d {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = c
	*h = s
}

func (h *minHeap) pop() cand {
	s := *h
	top, last := s[0], s[len(s)-1]
	s = s[:len(s)-1]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		if r := l + 1; r < len(s) && s[r].d < s[l].d {
			l = r
		}
		if last.d <= s[l].d {
			break
		}
		s[i] = s[l]
		i = l
	}
	if len(s) > 0 {
		s[i] = last
	}
	*h = s
	return top
}

func (h *maxHeap) push(c cand) {
	s := append(*h, c)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].d >= c.d {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = c
	*h = s
}

func (h *maxHeap) pop() cand {
	s := *h
	top, last := s[0], s[len(s)-1]
	s = s[:len(s)-1]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		if r := l + 1; r < len(s) && s[r].d > s[l].d {
			l = r
		}
		if last.d >= s[l].d {
			break
		}
		s[i] = s[l]
		i = l
	}
	if len(s) > 0 {
		s[i] = last
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
