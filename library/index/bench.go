package index

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	// TimeLoad, when set, times loading a saved graph the way a library
	// opens it (the command line runs a fresh process); otherwise the load
	// is timed in this process, with the benchmark's data still alive.
	TimeLoad func(path string) (float64, error)
}

// EfPoint is the search quality and speed at one efSearch.
type EfPoint struct {
	Ef     int     `json:"ef"`
	Recall float64 `json:"recall"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	QPS    float64 `json:"qps"`
}

// BenchReport is what `m3ret bench index` prints.
type BenchReport struct {
	N              int       `json:"n"`
	Dim            int       `json:"dim"`
	K              int       `json:"k"`
	M              int       `json:"m"`
	EfConstruction int       `json:"ef_construction"`
	Data           string    `json:"data"`
	BuildSeconds   float64   `json:"build_seconds"`
	BuildPerS      float64   `json:"build_per_s"`
	BytesPerItem   float64   `json:"bytes_per_item"`
	SaveSeconds    float64   `json:"save_seconds"`
	LoadSeconds    float64   `json:"load_seconds"`
	Ours           []EfPoint `json:"ours"`
	AtTarget       *EfPoint  `json:"at_target,omitempty"`
	Hnswlib        *struct {
		BuildPerS float64   `json:"build_per_s"`
		Ef        []EfPoint `json:"ef"`
	} `json:"hnswlib,omitempty"`
	HnswlibAtTarget *EfPoint `json:"hnswlib_at_target,omitempty"`
	BuildRatio      float64  `json:"build_ratio_ours_over_hnswlib,omitempty"`
	QPSRatio        float64  `json:"qps_ratio_at_target,omitempty"`
	HnswlibError    string   `json:"hnswlib_error,omitempty"`
	Threads         string   `json:"threads"`
}

var efLadder = []int{16, 32, 48, 64, 96, 128, 192, 256, 384, 512}

// BenchHNSW builds our graph over synthetic vectors, measures recall@K
// against exact search, latency and QPS on one thread, memory per item,
// save and load time; then hnswlib on the same vectors, with the same M and
// efConstruction, in the same run.
func BenchHNSW(o BenchOptions, logf func(string, ...any)) (*BenchReport, error) {
	cfg := DefaultHNSW
	rep := &BenchReport{N: o.N, Dim: o.Dim, K: o.K, M: cfg.M, EfConstruction: cfg.EfConstruction, Data: o.Data,
		Threads: "build and queries on one thread, ground truth on all CPUs"}
	data, queries := Synthetic(o.Data, o.N, o.Dim, 1), Synthetic(o.Data, o.Queries, o.Dim, 2)
	logf("exact neighbours of %d queries", o.Queries)
	truth := groundTruth(data, queries, o.K)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	logf("building the graph over %d vectors", o.N)
	h := NewHNSW(o.Dim, cfg)
	t0 := time.Now()
	for i, v := range data {
		_ = h.Add(strconv.Itoa(i), v)
		if i > 0 && i%100000 == 0 {
			logf("  %d inserted, %.0f/s", i, float64(i)/time.Since(t0).Seconds())
		}
	}
	rep.BuildSeconds = time.Since(t0).Seconds()
	rep.BuildPerS = float64(o.N) / rep.BuildSeconds
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rep.BytesPerItem = float64(after.HeapAlloc-before.HeapAlloc) / float64(o.N)

	for _, ef := range efLadder {
		h.SetEfSearch(ef)
		rep.Ours = append(rep.Ours, measure(h, queries, truth, o.K, ef))
	}
	rep.AtTarget = firstAt(rep.Ours, o.Target)
	// Keep the vectors only as flat bytes (nothing for the garbage collector
	// to scan) and time the load with no other graph alive, as when a
	// library opens.
	dataBytes, queryBytes := flat(data), flat(queries)
	data = nil
	if err := saveLoad(&h, rep, o.TimeLoad); err != nil {
		return nil, err
	}
	if o.Python != "" {
		logf("hnswlib on the same vectors")
		if err := runHnswlib(o, cfg, dataBytes, queryBytes, truth, rep); err != nil {
			rep.HnswlibError = err.Error()
		}
	}
	return rep, nil
}

func firstAt(pts []EfPoint, target float64) *EfPoint {
	for i := range pts {
		if pts[i].Recall >= target {
			return &pts[i]
		}
	}
	return nil
}

func groundTruth(data, queries [][]float32, k int) [][]int32 {
	e := NewExact(len(data[0]))
	for i, v := range data {
		_ = e.Add(strconv.Itoa(i), v)
	}
	out := make([][]int32, len(queries))
	for i, q := range queries {
		hits, _ := e.Search(q, k, nil)
		for _, h := range hits {
			n, _ := strconv.Atoi(h.ID)
			out[i] = append(out[i], int32(n))
		}
	}
	return out
}

func measure(h *HNSW, queries [][]float32, truth [][]int32, k, ef int) EfPoint {
	lat := make([]float64, len(queries))
	found := 0
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
	}
	return NewEfPoint(ef, found, k*len(queries), lat)
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

// saveLoad saves *h, drops it, and times loading it back.
func saveLoad(h **HNSW, rep *BenchReport, timeLoad func(string) (float64, error)) error {
	dir, err := os.MkdirTemp("", "m3ret-bench-index-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vectors.hnsw")
	t0 := time.Now()
	if err := (*h).Save(path, "bench", StringKeys); err != nil {
		return err
	}
	rep.SaveSeconds = time.Since(t0).Seconds()
	*h = nil
	runtime.GC()
	if timeLoad != nil {
		rep.LoadSeconds, err = timeLoad(path)
		return err
	}
	t0 = time.Now()
	if _, _, err := LoadHNSW(path); err != nil {
		return err
	}
	rep.LoadSeconds = time.Since(t0).Seconds()
	return nil
}

// TimeLoadHere loads a saved graph and returns the seconds it took (for
// `m3ret bench load`).
func TimeLoadHere(path string) (float64, error) {
	t0 := time.Now()
	_, _, err := LoadHNSW(path)
	return time.Since(t0).Seconds(), err
}

func runHnswlib(o BenchOptions, cfg HNSWConfig, data, queries []byte, truth [][]int32, rep *BenchReport) error {
	dir, err := os.MkdirTemp("", "m3ret-hnswlib-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, b, 0o600)
		return p
	}
	var tb []byte
	for _, t := range truth {
		for _, n := range t {
			tb = binary.LittleEndian.AppendUint32(tb, uint32(n))
		}
	}
	efs := make([]string, len(efLadder))
	for i, e := range efLadder {
		efs[i] = strconv.Itoa(e)
	}
	cmd := exec.Command(o.Python, write("b.py", hnswlibBench), write("x.f32", data), write("q.f32", queries),
		write("t.i32", tb), strconv.Itoa(o.Dim), strconv.Itoa(cfg.M), strconv.Itoa(cfg.EfConstruction), strconv.Itoa(o.K), strings.Join(efs, ","))
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			return fmt.Errorf("hnswlib (%s): %s", o.Python, lines[len(lines)-1])
		}
		return fmt.Errorf("hnswlib (%s): %w", o.Python, err)
	}
	var hl struct {
		BuildPerS float64   `json:"build_per_s"`
		Ef        []EfPoint `json:"ef"`
	}
	if err := json.Unmarshal(out, &hl); err != nil {
		return fmt.Errorf("hnswlib output: %w", err)
	}
	rep.Hnswlib = &struct {
		BuildPerS float64   `json:"build_per_s"`
		Ef        []EfPoint `json:"ef"`
	}{hl.BuildPerS, hl.Ef}
	rep.BuildRatio = rep.BuildPerS / hl.BuildPerS
	rep.HnswlibAtTarget = firstAt(hl.Ef, o.Target)
	if rep.AtTarget != nil && rep.HnswlibAtTarget != nil {
		rep.QPSRatio = rep.AtTarget.QPS / rep.HnswlibAtTarget.QPS
	}
	return nil
}

func flat(vs [][]float32) []byte {
	b := make([]byte, 0, 4*len(vs)*len(vs[0]))
	for _, v := range vs {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b
}
