package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/viterin/vek/vek32"
)

// HNSWConfig are the graph's parameters (Malkov & Yashunin 2018).
type HNSWConfig struct {
	M              int // links per node on upper layers; 2·M on layer 0
	EfConstruction int // candidate list size while inserting
	EfSearch       int // candidate list size while searching (≥ k is used)
	Seed           uint64
}

// DefaultHNSW is tuned for ≥ 0.98 recall@10 on 256-d embeddings.
var DefaultHNSW = HNSWConfig{M: 16, EfConstruction: 200, EfSearch: 96, Seed: 1}

// Graph is a hierarchical navigable small-world graph over L2-normalised
// vectors, searched by cosine similarity, with keys of any comparable type:
// the paper's Algorithms 1-4, with the neighbour-selection heuristic
// (Algorithm 4) when linking and when shrinking a node's links, Mmax0 = 2·M
// on layer 0, and repair of the neighbours of a removed node. One writer
// and many concurrent readers.
type Graph[K comparable] struct {
	mu     sync.RWMutex
	cfg    HNSWConfig
	ef     atomic.Int64
	dim    int
	mMax0  int
	mult   float64
	rng    *rand.Rand
	ids    []K    // node -> key
	gone   []bool // node removed
	pos    map[K]int32
	vecs   []float32 // node*dim
	levels []uint8
	links  [][][]int32 // node -> layer -> neighbours
	entry  int32       // -1 when empty
	top    int         // layer of the entry point
	alive  int
	pool   sync.Pool // *visitSet
}

// HNSW is the graph keyed by item id, as the library uses it.
type HNSW = Graph[string]

// NewHNSW returns an empty graph keyed by strings (see NewGraph).
func NewHNSW(dim int, cfg HNSWConfig) *HNSW { return NewGraph[string](dim, cfg) }

// NewGraph returns an empty graph for vectors of length dim (0: the length
// of the first vector added).
func NewGraph[K comparable](dim int, cfg HNSWConfig) *Graph[K] {
	if cfg.M < 2 {
		cfg.M = DefaultHNSW.M
	}
	if cfg.EfConstruction < cfg.M {
		cfg.EfConstruction = DefaultHNSW.EfConstruction
	}
	if cfg.EfSearch < 1 {
		cfg.EfSearch = DefaultHNSW.EfSearch
	}
	h := &Graph[K]{cfg: cfg, dim: dim, mMax0: 2 * cfg.M, mult: 1 / math.Log(float64(cfg.M)),
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)), pos: map[K]int32{}, entry: -1}
	h.ef.Store(int64(cfg.EfSearch))
	return h
}

// SetEfSearch changes the search candidate list size (recall against speed).
func (h *Graph[K]) SetEfSearch(ef int) { h.ef.Store(int64(max(1, ef))) }

// Len is the number of vectors.
func (h *Graph[K]) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.alive
}

// Keys returns the keys in the graph.
func (h *Graph[K]) Keys() []K {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]K, 0, h.alive)
	for n, k := range h.ids {
		if !h.gone[n] {
			out = append(out, k)
		}
	}
	return out
}

func (h *Graph[K]) vec(n int32) []float32 { return h.vecs[int(n)*h.dim : (int(n)+1)*h.dim] }

func (h *Graph[K]) dist(q []float32, n int32) float32 { return 1 - vek32.Dot(q, h.vec(n)) }

func (h *Graph[K]) maxLinks(layer int) int {
	if layer == 0 {
		return h.mMax0
	}
	return h.cfg.M
}

// Add inserts id, or replaces its vector.
func (h *Graph[K]) Add(id K, vec []float32) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dim == 0 && h.alive == 0 {
		h.dim = len(vec)
	}
	if len(vec) != h.dim || h.dim == 0 {
		return fmt.Errorf("add %d-d vector to %d-d index: %w", len(vec), h.dim, ErrDimension)
	}
	if _, ok := h.pos[id]; ok {
		h.remove(id)
	}
	h.insert(id, vec)
	return nil
}

func (h *Graph[K]) randomLevel() int {
	return min(int(-math.Log(1-h.rng.Float64())*h.mult), 30)
}

func (h *Graph[K]) insert(id K, vec []float32) {
	n := int32(len(h.ids))
	level := h.randomLevel()
	h.ids = append(h.ids, id)
	h.gone = append(h.gone, false)
	h.vecs = append(h.vecs, vec...)
	h.levels = append(h.levels, uint8(level))
	h.links = append(h.links, make([][]int32, level+1))
	h.pos[id] = n
	h.alive++
	if h.entry < 0 {
		h.entry, h.top = n, level
		return
	}
	q := h.vec(n)
	ep := h.entry
	for lc := h.top; lc > level; lc-- {
		ep = h.greedy(q, ep, lc)
	}
	eps := []cand{{h.dist(q, ep), ep}}
	for lc := min(level, h.top); lc >= 0; lc-- {
		w := h.searchLayer(q, eps, h.cfg.EfConstruction, lc, nil)
		neigh := h.selectHeuristic(q, w, h.cfg.M)
		h.links[n][lc] = neigh
		for _, e := range neigh {
			h.link(e, n, lc)
		}
		eps = w
	}
	if level > h.top {
		h.entry, h.top = n, level
	}
}

// link adds n to e's links on layer lc, shrinking them with the heuristic
// when they overflow.
func (h *Graph[K]) link(e, n int32, lc int) {
	l := append(h.links[e][lc], n)
	if len(l) <= h.maxLinks(lc) {
		h.links[e][lc] = l
		return
	}
	base := h.vec(e)
	cands := make([]cand, 0, len(l))
	for _, x := range l {
		cands = append(cands, cand{h.dist(base, x), x})
	}
	sortCands(cands)
	h.links[e][lc] = h.selectHeuristic(base, cands, h.maxLinks(lc))
}

// selectHeuristic is Algorithm 4 without extension or kept pruned links:
// take candidates nearest first, keeping one only if it is nearer to base
// than to every one already kept. cands must be sorted nearest first.
func (h *Graph[K]) selectHeuristic(base []float32, cands []cand, m int) []int32 {
	out := make([]int32, 0, m)
	for _, c := range cands {
		if len(out) == m {
			break
		}
		good := true
		cv := h.vec(c.n)
		for _, r := range out {
			if 1-vek32.Dot(cv, h.vec(r)) < c.d {
				good = false
				break
			}
		}
		if good {
			out = append(out, c.n)
		}
	}
	return out
}

// greedy walks layer lc from ep to the local nearest node (ef = 1).
func (h *Graph[K]) greedy(q []float32, ep int32, lc int) int32 {
	best, bd := ep, h.dist(q, ep)
	for changed := true; changed; {
		changed = false
		for _, x := range h.links[best][lc] {
			if h.gone[x] {
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
// nearest first. keep, when set, limits the results (not the walk).
func (h *Graph[K]) searchLayer(q []float32, eps []cand, ef, lc int, keep func(int32) bool) []cand {
	vs := h.visits()
	defer h.pool.Put(vs)
	var cands, res heap
	for _, e := range eps {
		vs.visit(e.n)
		cands.pushMin(e)
		if !h.gone[e.n] && (keep == nil || keep(e.n)) {
			res.pushMax(e)
		}
	}
	for len(cands) > 0 {
		c := cands.popMin()
		if len(res) >= ef && c.d > res[0].d {
			break
		}
		for _, x := range h.links[c.n][lc] {
			if vs.visit(x) || h.gone[x] {
				continue
			}
			d := h.dist(q, x)
			if len(res) < ef || d < res[0].d {
				cands.pushMin(cand{d, x})
				if keep == nil || keep(x) {
					res.pushMax(cand{d, x})
					if len(res) > ef {
						res.popMax()
					}
				}
			}
		}
	}
	out := []cand(res)
	sortCands(out)
	return out
}

// Search returns the k nearest ids that keep accepts, best first.
func (h *Graph[K]) Search(query []float32, k int, keep func(K) bool) ([]Neighbour[K], error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.alive == 0 || k <= 0 {
		return nil, nil
	}
	if len(query) != h.dim {
		return nil, fmt.Errorf("search %d-d query in %d-d index: %w", len(query), h.dim, ErrDimension)
	}
	ep := h.entry
	for lc := h.top; lc > 0; lc-- {
		ep = h.greedy(query, ep, lc)
	}
	var kf func(int32) bool
	if keep != nil {
		kf = func(n int32) bool { return keep(h.ids[n]) }
	}
	w := h.searchLayer(query, []cand{{h.dist(query, ep), ep}}, max(k, int(h.ef.Load())), 0, kf)
	hits := make([]Neighbour[K], 0, min(k, len(w)))
	for _, c := range w[:min(k, len(w))] {
		hits = append(hits, Neighbour[K]{ID: h.ids[c.n], Score: 1 - c.d})
	}
	return hits, nil
}

// Score ranks the given ids exactly (the path for small candidate sets).
func (h *Graph[K]) Score(query []float32, ids []K, k int) ([]Neighbour[K], error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(query) != h.dim && h.alive > 0 {
		return nil, fmt.Errorf("search %d-d query in %d-d index: %w", len(query), h.dim, ErrDimension)
	}
	top := newTopK[K](k)
	for _, id := range ids {
		if n, ok := h.pos[id]; ok {
			top.offer(id, vek32.Dot(query, h.vec(n)))
		}
	}
	return top.hits(), nil
}

// Remove deletes id and repairs the links of its neighbours: each one is
// relinked, with the heuristic, among its other neighbours and the removed
// node's.
func (h *Graph[K]) Remove(id K) {
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
	h.alive--
	for lc := range h.links[n] {
		for _, e := range h.links[n][lc] {
			if !h.gone[e] && lc < len(h.links[e]) {
				h.repair(e, n, lc)
			}
		}
	}
	if h.entry == n {
		h.newEntry()
	}
}

// repair relinks e on layer lc after the removal of gone.
func (h *Graph[K]) repair(e, gone int32, lc int) {
	seen := map[int32]bool{e: true, gone: true}
	base := h.vec(e)
	var cands []cand
	for _, src := range [][]int32{h.links[e][lc], h.links[gone][lc]} {
		for _, x := range src {
			if !seen[x] && !h.gone[x] && lc < len(h.links[x]) {
				seen[x] = true
				cands = append(cands, cand{h.dist(base, x), x})
			}
		}
	}
	sortCands(cands)
	h.links[e][lc] = h.selectHeuristic(base, cands, h.maxLinks(lc))
}

func (h *Graph[K]) newEntry() {
	h.entry, h.top = -1, 0
	for n := range h.ids {
		if !h.gone[n] && (h.entry < 0 || int(h.levels[n]) > h.top) {
			h.entry, h.top = int32(n), int(h.levels[n])
		}
	}
}

// visitSet marks nodes seen by one search with a generation stamp.
type visitSet struct {
	gen  uint32
	mark []uint32
}

func (h *Graph[K]) visits() *visitSet {
	vs, _ := h.pool.Get().(*visitSet)
	if vs == nil {
		vs = &visitSet{}
	}
	if len(vs.mark) < len(h.ids) {
		vs.mark = make([]uint32, len(h.ids)+len(h.ids)/4+64)
		vs.gen = 0
	}
	vs.gen++
	if vs.gen == 0 {
		clear(vs.mark)
		vs.gen = 1
	}
	return vs
}

// visit marks n and reports whether it was already marked.
func (vs *visitSet) visit(n int32) bool {
	if vs.mark[n] == vs.gen {
		return true
	}
	vs.mark[n] = vs.gen
	return false
}
