package index

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// AddBatch inserts (or replaces) many vectors, from workers goroutines at
// once (0: one per CPU), as hnswlib's add_items does: the nodes are
// reserved in order with their random levels, then linked in parallel,
// each link list under its node's lock (striped) and the entry point under
// a lock of its own. Searches wait until the batch is in. A quantized graph
// still empty fits its quantizer on the batch. progress, when set, is
// called now and then from the workers with the number inserted.
func (h *Graph[K]) AddBatch(ctx context.Context, ids []K, vecs [][]float32, workers int, progress func(done, total int)) error {
	if len(ids) != len(vecs) {
		panic("index: AddBatch with different numbers of ids and vectors")
	}
	if err := h.waitKeys(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range vecs {
		if err := h.checkDim(v); err != nil {
			return err
		}
	}
	if h.cfg.Quantize && h.quant == nil && len(vecs) > 0 {
		h.startQuantized(vecs)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	first := h.reserveBatch(ids, vecs, workers)
	start := 0
	if h.entry < 0 && len(ids) > 0 { // the first node alone: it becomes the entry point
		h.insert(h.searcher(), first, vecs[0])
		start = 1
	}
	if workers == 1 || len(ids)-start < 64 {
		for i := start; i < len(ids); i++ {
			if err := ctx.Err(); err != nil {
				return h.dropUnlinked(first+int32(i), err)
			}
			h.insert(h.searcher(), first+int32(i), vecs[i])
			if progress != nil && i%1024 == 0 {
				progress(i, len(ids))
			}
		}
		return nil
	}
	return h.addParallel(ctx, first, start, vecs, workers, progress)
}

func (h *Graph[K]) addParallel(ctx context.Context, first int32, start int, vecs [][]float32, workers int, progress func(done, total int)) error {
	if h.locks == nil {
		h.locks = new([nodeLocks]sync.Mutex)
	}
	h.ready = make([]atomic.Bool, len(h.ids))
	for n := range first + int32(start) {
		h.ready[n].Store(true)
	}
	h.par = true
	defer func() { h.par, h.ready = false, nil }()
	var next, done atomic.Int64
	next.Store(int64(start))
	inserted := make([]bool, len(vecs)) // each written by the worker that took it
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for range workers {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(vecs) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				h.insert(h.searcher(), first+int32(i), vecs[i])
				inserted[i] = true
				if d := done.Add(1); progress != nil && d%1024 == 0 {
					progress(int(d)+start, len(vecs))
				}
			}
		})
	}
	err := g.Wait()
	if err != nil {
		for i := start; i < len(vecs); i++ {
			if n := first + int32(i); !inserted[i] && !h.gone[n] {
				h.remove(h.ids[n])
			}
		}
	}
	return err
}

// reserveBatch removes the ids already present, then appends a node for
// each id with its random level, and stores the vectors from workers
// goroutines (at 10 M × 256-d that is 10 GB to copy and 2.5 G values to
// quantize); it returns the first node.
func (h *Graph[K]) reserveBatch(ids []K, vecs [][]float32, workers int) int32 {
	for _, id := range ids {
		if _, ok := h.pos[id]; ok {
			h.remove(id)
		}
	}
	first := int32(len(h.ids))
	h.ids = slices.Grow(h.ids, len(ids))
	h.gone = slices.Grow(h.gone, len(ids))
	h.levels = slices.Grow(h.levels, len(ids))
	h.l0 = growArena(h.l0, len(ids)*h.s0)
	h.upAt = slices.Grow(h.upAt, len(ids))
	if len(h.pos) == 0 { // a first batch: the map sized once
		h.pos = make(map[K]int32, len(ids))
	}
	for _, id := range ids {
		h.reserve(id)
	}
	h.storeVectors(vecs, workers)
	return first
}

// storeVectors appends vecs to the vector arenas (codes and float32 copy
// in a quantized graph), in chunks from workers goroutines (one chunk, as
// for a single Add, on this one).
func (h *Graph[K]) storeVectors(vecs [][]float32, workers int) {
	dim := h.dim
	var codes []uint8
	var floats []float32 // the float32 arena's new part
	if h.quant != nil {
		n := len(h.codes)
		h.codes = growArena(h.codes, len(vecs)*dim)[:n+len(vecs)*dim]
		codes = h.codes[n:]
		n = len(h.raw.tail)
		h.raw.tail = growArena(h.raw.tail, len(vecs)*dim)[:n+len(vecs)*dim]
		floats = h.raw.tail[n:]
	} else {
		n := len(h.vecs)
		h.vecs = growArena(h.vecs, len(vecs)*dim)[:n+len(vecs)*dim]
		floats = h.vecs[n:]
	}
	store := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(floats[i*dim:(i+1)*dim], vecs[i])
			if codes != nil {
				h.quant.encodeTo(codes[i*dim:(i+1)*dim], vecs[i])
			}
		}
	}
	const chunk = 4096
	if len(vecs) <= chunk || workers == 1 {
		store(0, len(vecs))
		return
	}
	var g errgroup.Group
	g.SetLimit(workers)
	for lo := 0; lo < len(vecs); lo += chunk {
		g.Go(func() error {
			store(lo, min(lo+chunk, len(vecs)))
			return nil
		})
	}
	_ = g.Wait()
}

// dropUnlinked ends a cancelled batch: the nodes from n on, reserved but
// perhaps not linked, are removed (marked gone; links to them dropped), so
// the graph stays consistent; err is returned.
func (h *Graph[K]) dropUnlinked(n int32, err error) error {
	for m := n; int(m) < len(h.ids); m++ {
		if !h.gone[m] {
			h.remove(h.ids[m])
		}
	}
	return err
}
