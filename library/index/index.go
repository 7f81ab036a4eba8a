// Package index holds the two search structures of a library: a vector index
// over embeddings and a bleve index over metadata. Both can be rebuilt from
// the catalog at any time.
//
// Vectors is the interface the library searches through. HNSW, our own
// graph (hnsw.go, saved and loaded by persist.go with the catalog generation
// it was built at), is the shipped implementation; Exact, a brute-force
// scan, is the oracle its recall is tested against. library.newVectors is
// the one place that chooses between them. Meta is the bleve index over
// item metadata that filters and the search box use.
package index

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/viterin/vek/vek32"
)

// ErrDimension is returned when a vector's length differs from the index's.
var ErrDimension = errors.New("vector dimension mismatch")

// Neighbour is one search result: a key and its cosine similarity to the
// query.
type Neighbour[K comparable] struct {
	ID    K
	Score float32
}

// Hit is a result keyed by item id, as the library uses them.
type Hit = Neighbour[string]

// Vectors is a set of L2-normalised vectors searched by cosine similarity.
// Implementations are safe for concurrent use.
type Vectors interface {
	Add(id string, vec []float32) error
	Remove(id string)
	// Search returns up to k hits, best first; keep, when not nil, limits
	// the results to ids it accepts.
	Search(query []float32, k int, keep func(id string) bool) ([]Hit, error)
	// Score ranks the given ids exactly, best first, at most k.
	Score(query []float32, ids []string, k int) ([]Hit, error)
	Len() int
}

// Exact is a brute-force vector index. The zero value is not usable; call
// NewExact.
type Exact struct {
	mu   sync.RWMutex
	dim  int
	ids  []string
	data []float32 // len(ids)*dim, row i is ids[i]
	pos  map[string]int
}

// NewExact returns an empty exact index for vectors of length dim; dim 0
// takes the length of the first vector added.
func NewExact(dim int) *Exact {
	return &Exact{dim: dim, pos: map[string]int{}}
}

// Add inserts or replaces the vector of id.
func (e *Exact) Add(id string, vec []float32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dim == 0 && len(e.ids) == 0 {
		e.dim = len(vec)
	}
	if len(vec) != e.dim || e.dim == 0 {
		return fmt.Errorf("add %d-d vector to %d-d index: %w", len(vec), e.dim, ErrDimension)
	}
	if i, ok := e.pos[id]; ok {
		copy(e.data[i*e.dim:], vec)
		return nil
	}
	e.pos[id] = len(e.ids)
	e.ids = append(e.ids, id)
	e.data = append(e.data, vec...)
	return nil
}

// Remove deletes id if present (the last row moves into its place).
func (e *Exact) Remove(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i, ok := e.pos[id]
	if !ok {
		return
	}
	last := len(e.ids) - 1
	if i != last {
		e.ids[i] = e.ids[last]
		copy(e.data[i*e.dim:(i+1)*e.dim], e.data[last*e.dim:])
		e.pos[e.ids[i]] = i
	}
	e.ids = e.ids[:last]
	e.data = e.data[:last*e.dim]
	delete(e.pos, id)
}

// Len is the number of vectors.
func (e *Exact) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.ids)
}

// Search scans every vector, split across all CPUs for large indexes.
func (e *Exact) Search(query []float32, k int, keep func(string) bool) ([]Hit, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(e.ids) == 0 || k <= 0 {
		return nil, nil
	}
	if len(query) != e.dim {
		return nil, fmt.Errorf("search %d-d query in %d-d index: %w", len(query), e.dim, ErrDimension)
	}
	parts := 1
	if len(e.ids) >= 16384 {
		parts = runtime.NumCPU()
	}
	tops := make([]*topK[string], parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(e.ids)/parts, (p+1)*len(e.ids)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := newTopK[string](k)
			for i := lo; i < hi; i++ {
				if keep == nil || keep(e.ids[i]) {
					t.offer(e.ids[i], vek32.Dot(query, e.data[i*e.dim:(i+1)*e.dim]))
				}
			}
			tops[p] = t
		}()
	}
	wg.Wait()
	all := tops[0]
	for _, t := range tops[1:] {
		for _, h := range t.hits() {
			all.offer(h.ID, h.Score)
		}
	}
	return all.hits(), nil
}

// Score ranks the given ids exactly.
func (e *Exact) Score(query []float32, ids []string, k int) ([]Hit, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(query) != e.dim && len(e.ids) > 0 {
		return nil, fmt.Errorf("search %d-d query in %d-d index: %w", len(query), e.dim, ErrDimension)
	}
	t := newTopK[string](k)
	for _, id := range ids {
		if i, ok := e.pos[id]; ok {
			t.offer(id, vek32.Dot(query, e.data[i*e.dim:(i+1)*e.dim]))
		}
	}
	return t.hits(), nil
}
