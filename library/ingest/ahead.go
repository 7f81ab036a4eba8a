package ingest

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/m3ret/viewer/library/ingest/dicom"
	"github.com/m3ret/viewer/library/media"
)

// ahead decodes, while a series is still arriving (a PACS pull), the
// slices its sample will most likely hold, so that reading the series once
// the last instance has landed finds most of them decoded: the decoding
// overlaps the download instead of following it.
//
// Which slices a sample holds depends on their rank in slice order, known
// only once every header is in; most series number their instances in
// slice order (one way or the other), so a slice is decoded ahead when its
// Instance Number, counted from either end, is a rank the sample keeps.
// A wrong guess costs a decode and nothing else: the series is read as
// usual and takes only the slices it needs. Offers never wait: a queue
// feeds a worker per CPU, and at most twice the kept slices are held.
type ahead struct {
	ctx     context.Context
	n       int // the instances expected
	queue   chan string
	wg      sync.WaitGroup
	mu      sync.Mutex
	slices  map[string]*aheadSlice
	budget  int
	keep    map[[2]int][]int // kept ranks by (rows, cols)
	hits    atomic.Int64     // slices taken decoded
	pending atomic.Int64     // slices queued and not yet decoded or dropped
}

type aheadSlice struct {
	started bool
	done    chan struct{}
	s       *media.Sample
}

func newAhead(ctx context.Context, n int) *ahead {
	a := &ahead{ctx: ctx, n: n, queue: make(chan string, n), slices: map[string]*aheadSlice{},
		keep: map[[2]int][]int{}}
	for range runtime.NumCPU() {
		a.wg.Add(1)
		go a.work()
	}
	return a
}

// offer queues a landed instance for decoding if the sample will likely
// hold it.
func (a *ahead) offer(path string, h *dicom.Header) {
	if h.Frames > 1 || !a.likelyKept(h) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.slices) >= a.budget || a.slices[path] != nil {
		return
	}
	select {
	case a.queue <- path:
		a.pending.Add(1)
		a.slices[path] = &aheadSlice{done: make(chan struct{})}
	default:
	}
}

func (a *ahead) likelyKept(h *dicom.Header) bool {
	a.mu.Lock()
	key := [2]int{h.Rows, h.Cols}
	keep, ok := a.keep[key]
	if !ok {
		keep = dicom.Kept(a.n, h.Rows, h.Cols)
		a.keep[key] = keep
		a.budget = max(a.budget, 2*len(keep))
	}
	a.mu.Unlock()
	if len(keep) >= a.n {
		return true
	}
	r := h.InstanceNumber() - 1
	has := func(x int) bool {
		i := sort.SearchInts(keep, x)
		return i < len(keep) && keep[i] == x
	}
	return r >= 0 && r < a.n && (has(r) || has(a.n-1-r))
}

func (a *ahead) work() {
	defer a.wg.Done()
	for path := range a.queue {
		a.decode(path)
		a.pending.Add(-1)
	}
}

func (a *ahead) decode(path string) {
	a.mu.Lock()
	e := a.slices[path]
	if e == nil || a.ctx.Err() != nil { // taken before its turn, or cancelled
		a.mu.Unlock()
		return
	}
	e.started = true
	a.mu.Unlock()
	if s, err := dicom.ReadSlice(a.ctx, path, opener(a.ctx)); err == nil {
		e.s = s
	}
	close(e.done)
}

// take hands over a slice decoded ahead (waiting if it is being decoded),
// or nil: then the caller decodes it.
func (a *ahead) take(path string) *media.Sample {
	a.mu.Lock()
	e := a.slices[path]
	delete(a.slices, path)
	a.mu.Unlock()
	if e == nil || !e.started {
		return nil
	}
	<-e.done
	if e.s != nil {
		a.hits.Add(1)
	}
	return e.s
}

// close stops the workers and drops what was not taken.
func (a *ahead) close() {
	a.mu.Lock()
	a.slices = map[string]*aheadSlice{}
	a.mu.Unlock()
	close(a.queue)
	a.wg.Wait()
}
