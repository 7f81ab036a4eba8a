package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// HNSWConfig are the graph's parameters (Malkov & Yashunin 2018).
type HNSWConfig struct {
	M              int // links per node on upper layers; 2·M on layer 0
	EfConstruction int // candidate list size while inserting
	EfSearch       int // candidate list size while searching (≥ k is used)
	Seed           uint64
	// Quantize keeps the vectors the graph walks as int8 codes (a quarter
	// of the memory) and re-ranks each search's candidates exactly on the
	// float32 vectors, kept apart (memory-mapped once saved). See store.go.
	Quantize bool
}

// DefaultHNSW is tuned for ≥ 0.98 recall@10 on 256-d embeddings.
var DefaultHNSW = HNSWConfig{M: 16, EfConstruction: 200, EfSearch: 96, Seed: 1}

// Graph is a hierarchical navigable small-world graph over L2-normalised
// vectors, searched by cosine similarity, with keys of any comparable type:
// the paper's Algorithms 1-4, with the neighbour-selection heuristic
// (Algorithm 4) when linking and when shrinking a node's links, Mmax0 = 2·M
// on layer 0, and repair of the neighbours of a removed node.
//
// Memory layout (as hnswlib's): vectors in one arena in node order;
// layer-0 links in one flat array with a fixed stride (a count, then up to
// 2·M links); upper-layer links, for the few nodes that have them, in a
// second arena. A search allocates nothing but its result: its visited set
// (an epoch counter, reset by incrementing), heaps and buffers come from a
// pool.
//
// One writer and many concurrent readers; AddBatch inserts from several
// goroutines at once, with a lock per node (striped) around link lists.
type Graph[K comparable] struct {
	mu     sync.RWMutex
	cfg    HNSWConfig
	ef     atomic.Int64
	dim    int
	mMax0  int
	s0, s1 int // strides of a layer-0 and an upper link list (1 + links)
	mult   float64
	rng    *rand.Rand
	ids    []K    // node -> key
	gone   []bool // node removed
	nGone  int
	pos    map[K]int32
	// A loaded graph's key map is built in the background (10M keys take
	// seconds, and search needs none): keysReady is closed when pos is
	// complete, keysErr is a duplicate key found meanwhile. Nil: pos is
	// complete. Add, AddBatch, Remove and Score wait for it (waitKeys).
	keysReady chan struct{}
	keysErr   error
	levels    []uint8
	l0        []int32 // node*s0: count, links
	upAt      []int32 // node -> start of its upper lists in upper (level > 0)
	upper     []int32 // per node with level L: L lists of stride s1, layers 1..L
	vecs      []float32
	quant     *quantizer // nil: float32 vectors in vecs
	codes     []uint8    // node*dim, when quantized
	// unmapCodes releases codes mapped from a loaded graph's file (nil:
	// codes in memory); appending copies them out of the mapping first.
	unmapCodes func() error
	raw        *rawVectors // float32 vectors for re-ranking, when quantized
	entry      int32       // -1 when empty
	top        int         // layer of the entry point
	alive      int
	pool       sync.Pool // *searcher

	// During AddBatch: the node locks, the entry point's lock, and which
	// nodes are fully inserted (the walks of other insertions pass over
	// the rest, as hnswlib's per-node lock held through an insertion makes
	// them wait: a half-linked node is a dead end).
	par   bool
	locks *[nodeLocks]sync.Mutex
	epMu  sync.Mutex
	ready []atomic.Bool
}

// nodeLocks is the number of stripes of AddBatch's per-node locks.
const nodeLocks = 1 << 16

// HNSW is the graph keyed by item id, as the library uses it.
type HNSW = Graph[string]

// NewHNSW returns an empty graph keyed by strings (see NewGraph).
func NewHNSW(dim int, cfg HNSWConfig) *HNSW { return NewGraph[string](dim, cfg) }

// NewGraph returns an empty graph for vectors of length dim (0: the length
// of the first vector added). A quantized graph fits its quantizer on the
// first vectors added (the first AddBatch, or the first Add).
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
	h := &Graph[K]{cfg: cfg, dim: dim, mMax0: 2 * cfg.M, s0: 2*cfg.M + 1, s1: cfg.M + 1,
		mult: 1 / math.Log(float64(cfg.M)),
		rng:  rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)), pos: map[K]int32{}, entry: -1}
	h.ef.Store(int64(cfg.EfSearch))
	return h
}

// SetEfSearch changes the search candidate list size (recall against speed).
func (h *Graph[K]) SetEfSearch(ef int) { h.ef.Store(int64(max(1, ef))) }

// Quantized reports whether the graph walks int8 codes.
func (h *Graph[K]) Quantized() bool { return h.cfg.Quantize }

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

func (h *Graph[K]) maxLinks(layer int) int {
	if layer == 0 {
		return h.mMax0
	}
	return h.cfg.M
}

// slot is node n's link list on layer lc: slot[0] the count, then the
// links.
func (h *Graph[K]) slot(n int32, lc int) []int32 {
	if lc == 0 {
		b := int(n) * h.s0
		return h.l0[b : b+h.s0 : b+h.s0]
	}
	b := int(h.upAt[n]) + (lc-1)*h.s1
	return h.upper[b : b+h.s1 : b+h.s1]
}

// linksOf is node n's links on layer lc (a view: copy it under the node's
// lock during AddBatch).
func (h *Graph[K]) linksOf(n int32, lc int) []int32 {
	s := h.slot(n, lc)
	return s[1 : 1+s[0]]
}

func (h *Graph[K]) setLinks(n int32, lc int, l []int32) {
	s := h.slot(n, lc)
	s[0] = int32(copy(s[1:], l))
}

// lock and unlock guard node n's link lists during AddBatch.
func (h *Graph[K]) lock(n int32) {
	if h.par {
		h.locks[uint32(n)%nodeLocks].Lock()
	}
}

func (h *Graph[K]) unlock(n int32) {
	if h.par {
		h.locks[uint32(n)%nodeLocks].Unlock()
	}
}

// Add inserts id, or replaces its vector.
func (h *Graph[K]) Add(id K, vec []float32) error {
	if err := h.waitKeys(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.checkDim(vec); err != nil {
		return err
	}
	if _, ok := h.pos[id]; ok {
		h.remove(id)
	}
	if h.cfg.Quantize && h.quant == nil {
		h.startQuantized([][]float32{vec})
	}
	n := h.reserve(id)
	h.appendVector(vec)
	h.insert(h.searcher(), n, vec)
	return nil
}

func (h *Graph[K]) checkDim(vec []float32) error {
	if h.dim == 0 && h.alive == 0 && len(h.ids) == 0 {
		h.dim = len(vec)
	}
	if len(vec) != h.dim || h.dim == 0 {
		return fmt.Errorf("add %d-d vector to %d-d index: %w", len(vec), h.dim, ErrDimension)
	}
	return nil
}

func (h *Graph[K]) startQuantized(sample [][]float32) {
	h.quant = fitQuantizer(h.dim, sample)
	h.raw = &rawVectors{dim: h.dim}
}

func (h *Graph[K]) randomLevel() int {
	return min(int(-math.Log(1-h.rng.Float64())*h.mult), 30)
}

// reserve appends node n for id with a random level and empty links (its
// vector is stored by the caller).
func (h *Graph[K]) reserve(id K) int32 {
	n := int32(len(h.ids))
	level := h.randomLevel()
	h.ids = append(h.ids, id)
	h.gone = append(h.gone, false)
	h.levels = append(h.levels, uint8(level))
	h.l0 = append(growArena(h.l0, h.s0), make([]int32, h.s0)...)
	h.upAt = append(h.upAt, int32(len(h.upper)))
	if level > 0 {
		h.upper = append(h.upper, make([]int32, level*h.s1)...)
	}
	h.pos[id] = n
	h.alive++
	return n
}

// insert links node n (reserved, its vector stored) into the graph: the
// paper's Algorithm 1. During AddBatch it runs in several goroutines: the
// entry point is read under epMu, held throughout when n becomes the new
// top; link lists are read and written under their node's lock.
func (h *Graph[K]) insert(s *searcher, n int32, vec []float32) {
	defer h.pool.Put(s)
	level := int(h.levels[n])
	if h.par {
		h.epMu.Lock()
	}
	ep, top := h.entry, h.top
	if h.par && level <= top && ep >= 0 {
		h.epMu.Unlock()
	} else if h.par {
		defer h.epMu.Unlock()
	}
	if ep < 0 {
		h.entry, h.top = n, level
		return
	}
	q := &s.q
	h.setQuery(q, vec)
	for lc := top; lc > level; lc-- {
		ep = h.greedy(s, q, ep, lc)
	}
	s.eps = append(s.eps[:0], cand{h.dist(q, ep), ep})
	for lc := min(level, top); lc >= 0; lc-- {
		w := h.searchLayer(s, s.eps, h.cfg.EfConstruction, lc, nil)
		s.neigh = h.selectHeuristic(s, s.neigh[:0], w, h.cfg.M)
		h.lock(n)
		h.setLinks(n, lc, s.neigh)
		h.unlock(n)
		for _, e := range s.neigh {
			h.link(s, e, n, lc)
		}
		s.eps = append(s.eps[:0], w...)
	}
	if level > top {
		h.entry, h.top = n, level
	}
	if h.par {
		h.ready[n].Store(true)
	}
}

// skip tells a walk during AddBatch to pass over node x, not yet inserted.
func (h *Graph[K]) skip(x int32) bool { return h.par && !h.ready[x].Load() }

// link adds n to e's links on layer lc, shrinking them with the heuristic
// when they overflow.
func (h *Graph[K]) link(s *searcher, e, n int32, lc int) {
	h.lock(e)
	defer h.unlock(e)
	sl := h.slot(e, lc)
	if c := int(sl[0]); c < h.maxLinks(lc) {
		sl[1+c] = n
		sl[0]++
		return
	}
	cands := s.shrink[:0]
	h.setNode(s, &s.nq, e)
	for _, x := range sl[1 : 1+sl[0]] {
		cands = append(cands, cand{h.dist(&s.nq, x), x})
	}
	cands = append(cands, cand{h.dist(&s.nq, n), n})
	sortCands(cands)
	s.shrink = cands
	s.kept = h.selectHeuristic(s, s.kept[:0], cands, h.maxLinks(lc))
	h.setLinks(e, lc, s.kept)
}

// selectHeuristic is Algorithm 4 without extension or kept pruned links:
// take candidates nearest first, keeping one only if it is nearer to the
// base than to every one already kept. Distances between nodes are on the
// stored form (see setNode). cands must be sorted nearest first, and their
// distances computed before the call (it reuses s.nq); the kept nodes are
// appended to out.
func (h *Graph[K]) selectHeuristic(s *searcher, out []int32, cands []cand, m int) []int32 {
	for _, c := range cands {
		if len(out) == m {
			break
		}
		h.setNode(s, &s.nq, c.n)
		good := true
		for _, r := range out {
			if h.dist(&s.nq, r) < c.d {
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
