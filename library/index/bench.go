package index

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"time"
)

//go:embed hnswlib_bench.py
var hnswlibBench []byte

// BenchOptions choose the data and parameters of BenchHNSW.
type BenchOptions struct {
	N, Dim, Queries, K int
	Data               string // "clustered" or "random"
	Target             float64
	Python             string // with hnswlib; "" skips the comparison
	// Quantize builds the int8 graph (re-ranked on float32 vectors mapped
	// from disk) instead of the float32 one.
	Quantize bool
	// Keep, when set, is a folder where the data, queries, exact
	// neighbours and saved graph are left (else a temporary one, removed).
	Keep string
	// EfConstruction, when set, replaces the shipped efConstruction (a
	// quicker build of a very large graph, said in the report).
	EfConstruction int
	// SkipSingle skips the one-thread build (for very large N: the graph
	// is built on all CPUs only).
	SkipSingle bool
	// TimeLoad, when set, opens the saved graph the way a library does and
	// runs the queries in a fresh process (the command line's `bench
	// load`); otherwise in this process.
	TimeLoad func(graph, queries string, k, ef int) (*OpenReport, error)
}

// EfPoint is the search quality and speed at one efSearch.
type EfPoint struct {
	Ef     int     `json:"ef"`
	Recall float64 `json:"recall"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	QPS    float64 `json:"qps"`
	// Recall of a quantized graph's own order, before exact re-ranking.
	RecallCodes float64 `json:"recall_before_rerank,omitempty"`
	// QPSAllCPUs is the throughput with queries spread over every CPU.
	QPSAllCPUs float64 `json:"qps_all_cpus,omitempty"`
	// QPSBatch is hnswlib's throughput with all queries in one call on one
	// thread (no Python call per query).
	QPSBatch float64 `json:"qps_batch_one_thread,omitempty"`
}

// BuildRun is one build of a graph.
type BuildRun struct {
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"`
	PerS    float64 `json:"per_s"`
	// Recall at the efSearch where the multi-thread graph first reached
	// the target (the same queries), to compare build quality.
	RecallAtTargetEf float64 `json:"recall_at_target_ef,omitempty"`
}

// OpenReport is a saved graph opened in a fresh process, as a library
// opens it, and the queries run on it there.
type OpenReport struct {
	Seconds         float64 `json:"seconds"`
	RSSAfterOpen    int64   `json:"rss_after_open_bytes"`
	RSSAfterQueries int64   `json:"rss_after_queries_bytes"`
	RSSAnon         int64   `json:"rss_anon_bytes"`
	RSSFile         int64   `json:"rss_file_bytes"`
	Recall          float64 `json:"recall,omitempty"`
	P50ms           float64 `json:"p50_ms,omitempty"`
	P99ms           float64 `json:"p99_ms,omitempty"`
}

// HnswlibReport is hnswlib's side of the same run.
type HnswlibReport struct {
	Build1   BuildRun  `json:"build_one_thread"`
	BuildAll BuildRun  `json:"build_all_cpus"`
	Ef       []EfPoint `json:"ef"`
}

// BenchReport is what `m3ret bench index` prints.
type BenchReport struct {
	N               int            `json:"n"`
	Dim             int            `json:"dim"`
	K               int            `json:"k"`
	M               int            `json:"m"`
	EfConstruction  int            `json:"ef_construction"`
	Data            string         `json:"data"`
	Vectors         string         `json:"vectors"` // float32 or int8
	CPUs            int            `json:"cpus"`
	Build1          *BuildRun      `json:"build_one_thread,omitempty"`
	BuildAll        BuildRun       `json:"build_all_cpus"`
	BytesPerItem    float64        `json:"bytes_per_item"`
	DiskPerItem     float64        `json:"disk_bytes_per_item"`
	SaveSeconds     float64        `json:"save_seconds"`
	Open            *OpenReport    `json:"open,omitempty"`
	Ours            []EfPoint      `json:"ours"`
	AtTarget        *EfPoint       `json:"at_target,omitempty"`
	Hnswlib         *HnswlibReport `json:"hnswlib,omitempty"`
	HnswlibAtTarget *EfPoint       `json:"hnswlib_at_target,omitempty"`
	// Ratios ours/hnswlib: build rates on one thread and on all CPUs, and
	// queries per second at the first ef reaching the target recall.
	BuildRatio1     float64 `json:"build_ratio_one_thread,omitempty"`
	BuildRatioAll   float64 `json:"build_ratio_all_cpus,omitempty"`
	QPSRatio        float64 `json:"qps_ratio_at_target,omitempty"`
	QPSRatioAllCPUs float64 `json:"qps_ratio_at_target_all_cpus,omitempty"`
	// QPSRatioBatch compares with hnswlib's one-call batch on one thread:
	// hnswlib without Python's per-call overhead.
	QPSRatioBatch   float64 `json:"qps_ratio_at_target_vs_batch,omitempty"`
	HnswlibError    string  `json:"hnswlib_error,omitempty"`
	GroundTruthSecs float64 `json:"ground_truth_seconds"`
}

var efLadder = []int{16, 32, 48, 64, 96, 128, 192, 256, 384, 512}

// BenchHNSW measures our graph over synthetic vectors: the build on one
// thread and on every CPU, recall@K against exact search, latency on one
// thread and throughput on all, memory and disk per item, and opening the
// saved graph in a fresh process; then hnswlib on the same vectors, with
// the same M and efConstruction, in the same run. The vectors live in a
// mapped file, outside the Go heap, so the memory measured is the graph's.
func BenchHNSW(o BenchOptions, logf func(string, ...any)) (*BenchReport, error) {
	cfg := DefaultHNSW
	cfg.Quantize = o.Quantize
	if o.EfConstruction > 0 {
		cfg.EfConstruction = o.EfConstruction
	}
	rep := &BenchReport{N: o.N, Dim: o.Dim, K: o.K, M: cfg.M, EfConstruction: cfg.EfConstruction, Data: o.Data,
		Vectors: "float32", CPUs: runtime.GOMAXPROCS(0)}
	if o.Quantize {
		rep.Vectors = "int8"
	}
	dir := o.Keep
	if dir == "" {
		d, err := os.MkdirTemp("", "m3ret-bench-index-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	data, unmapData, err := syntheticFile(filepath.Join(dir, "x.f32"), o.Data, o.N, o.Dim, 1, logf)
	if err != nil {
		return nil, err
	}
	defer unmapData()
	qpath := filepath.Join(dir, "q.f32")
	queries, unmapQ, err := syntheticFile(qpath, o.Data, o.Queries, o.Dim, 2, logf)
	if err != nil {
		return nil, err
	}
	defer unmapQ()
	t0 := time.Now()
	truth := keptTruth(filepath.Join(dir, "t.i32"), len(queries), o.K)
	if truth == nil {
		logf("exact neighbours of %d queries", o.Queries)
		truth = groundTruth(data, queries, o.K)
		if err := os.WriteFile(filepath.Join(dir, "t.i32"), truthBytes(truth), 0o600); err != nil {
			return nil, err
		}
	}
	rep.GroundTruthSecs = time.Since(t0).Seconds()
	ids := make([]string, len(data))
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	if err := benchOurs(o, cfg, rep, ids, data, queries, truth, dir, qpath, logf); err != nil {
		return nil, err
	}
	if o.Python != "" {
		logf("hnswlib on the same vectors")
		if err := runHnswlib(o, cfg, dir, rep); err != nil {
			rep.HnswlibError = err.Error()
		}
	}
	return rep, nil
}

func benchOurs(o BenchOptions, cfg HNSWConfig, rep *BenchReport, ids []string, data, queries [][]float32, truth [][]int32, dir, qpath string, logf func(string, ...any)) error {
	var single *HNSW
	if !o.SkipSingle {
		logf("building on one thread")
		var run BuildRun
		single, run = benchBuild(cfg, ids, data, 1, logf)
		rep.Build1 = &run
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	logf("building on %d threads", rep.CPUs)
	h, run := benchBuild(cfg, ids, data, rep.CPUs, logf)
	rep.BuildAll = run
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rep.BytesPerItem = float64(after.HeapAlloc-before.HeapAlloc) / float64(o.N)
	for _, ef := range efLadder {
		h.SetEfSearch(ef)
		p := measure(h, queries, truth, o.K, ef)
		if rep.AtTarget == nil && p.Recall >= o.Target {
			p.QPSAllCPUs = measureParallel(h, queries, o.K)
		}
		rep.Ours = append(rep.Ours, p)
		rep.AtTarget = firstAt(rep.Ours, o.Target)
	}
	if rep.AtTarget != nil {
		rep.BuildAll.RecallAtTargetEf = rep.AtTarget.Recall
		if single != nil {
			single.SetEfSearch(rep.AtTarget.Ef)
			rep.Build1.RecallAtTargetEf = measure(single, queries, truth, o.K, rep.AtTarget.Ef).Recall
		}
	}
	single = nil
	return saveAndOpen(&h, rep, o, dir, qpath)
}

func benchBuild(cfg HNSWConfig, ids []string, data [][]float32, threads int, logf func(string, ...any)) (*HNSW, BuildRun) {
	h := NewHNSW(len(data[0]), cfg)
	t0 := time.Now()
	last := time.Now()
	_ = h.AddBatch(context.Background(), ids, data, threads, func(done, total int) {
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			logf("  %d of %d inserted, %.0f/s", done, total, float64(done)/time.Since(t0).Seconds())
		}
	})
	secs := time.Since(t0).Seconds()
	return h, BuildRun{Threads: threads, Seconds: secs, PerS: float64(len(data)) / secs}
}

func firstAt(pts []EfPoint, target float64) *EfPoint {
	for i := range pts {
		if pts[i].Recall >= target {
			return &pts[i]
		}
	}
	return nil
}

func measure(h *HNSW, queries [][]float32, truth [][]int32, k, ef int) EfPoint {
	lat := make([]float64, len(queries))
	found, foundCodes := 0, 0
	for i, q := range queries {
		t := time.Now()
		hits, _ := h.Search(q, k, nil)
		lat[i] = time.Since(t).Seconds()
		for _, hit := range hits {
			n, _ := strconv.Atoi(hit.ID)
			if slices.Contains(truth[i], int32(n)) {
				found++
			}
		}
		if h.Quantized() {
			for _, id := range h.SearchCodes(q, k) {
				n, _ := strconv.Atoi(id)
				if slices.Contains(truth[i], int32(n)) {
					foundCodes++
				}
			}
		}
	}
	p := NewEfPoint(ef, found, k*len(queries), lat)
	if h.Quantized() {
		p.RecallCodes = float64(foundCodes) / float64(k*len(queries))
	}
	return p
}

// measureParallel is the queries per second with the queries spread over
// every CPU (each answered on one goroutine, as concurrent users would).
func measureParallel(h *HNSW, queries [][]float32, k int) float64 {
	workers := runtime.GOMAXPROCS(0)
	t0 := time.Now()
	done := make(chan struct{})
	for w := range workers {
		go func() {
			for i := w; i < len(queries); i += workers {
				_, _ = h.Search(queries[i], k, nil)
			}
			done <- struct{}{}
		}()
	}
	for range workers {
		<-done
	}
	return float64(len(queries)) / time.Since(t0).Seconds()
}

// NewEfPoint summarises queries run one at a time at one ef: found of
// total true neighbours, and each query's latency in seconds (sorted in
// place).
func NewEfPoint(ef, found, total int, lat []float64) EfPoint {
	var sum float64
	for _, l := range lat {
		sum += l
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[int(math.Round(p*float64(len(lat)-1)))] * 1e3 }
	return EfPoint{Ef: ef, Recall: float64(found) / float64(total), P50ms: pct(0.5), P99ms: pct(0.99), QPS: float64(len(lat)) / sum}
}

// saveAndOpen saves *h, drops it, and opens it again (in a fresh process
// when TimeLoad is set) to time the open and run the queries there at the
// target ef.
func saveAndOpen(h **HNSW, rep *BenchReport, o BenchOptions, dir, qpath string) error {
	path := filepath.Join(dir, "vectors.hnsw")
	t0 := time.Now()
	if err := (*h).Save(path, "bench", StringKeys); err != nil {
		return err
	}
	rep.SaveSeconds = time.Since(t0).Seconds()
	var disk int64
	for _, p := range []string{path, path + rawSuffix} {
		if st, err := os.Stat(p); err == nil {
			disk += st.Size()
		}
	}
	rep.DiskPerItem = float64(disk) / float64(o.N)
	*h = nil
	debug.FreeOSMemory() // the fresh process opening it must not compete with this one's freed heap
	ef := DefaultHNSW.EfSearch
	if rep.AtTarget != nil {
		ef = rep.AtTarget.Ef
	}
	open := OpenHere
	if o.TimeLoad != nil {
		open = o.TimeLoad
	}
	r, err := open(path, qpath, o.K, ef)
	rep.Open = r
	return err
}

func truthBytes(truth [][]int32) []byte {
	var tb []byte
	for _, t := range truth {
		tb = appendI32(tb, t)
	}
	return tb
}

// OpenHere opens a saved graph in this process as a library does, then,
// when queries names a vector file with a truth file beside it (t.i32),
// runs those queries at ef; it reports the time to open and the resident
// memory (for `m3ret bench load`).
func OpenHere(graph, queries string, k, ef int) (*OpenReport, error) {
	t0 := time.Now()
	h, _, err := LoadHNSW(graph)
	if err != nil {
		return nil, err
	}
	r := &OpenReport{Seconds: time.Since(t0).Seconds()}
	r.RSSAfterOpen, _, _ = residentMemory()
	if queries != "" {
		qs, unmap, err := mapVectors(queries, h.dim)
		if err != nil {
			return nil, err
		}
		defer unmap()
		truth := keptTruth(filepath.Join(filepath.Dir(queries), "t.i32"), len(qs), k)
		if truth == nil {
			return nil, fmt.Errorf("no exact neighbours of %d queries beside %s", len(qs), queries)
		}
		h.SetEfSearch(ef)
		p := measure(h, qs, truth, k, ef)
		r.Recall, r.P50ms, r.P99ms = p.Recall, p.P50ms, p.P99ms
	}
	r.RSSAfterQueries, r.RSSAnon, r.RSSFile = residentMemory()
	runtime.KeepAlive(h)
	return r, nil
}
