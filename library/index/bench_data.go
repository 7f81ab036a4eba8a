package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// syntheticFile writes n synthetic vectors (see Synthetic) to path as
// little-endian f32, generated in chunks of 65,536 on every CPU (chunk c
// seeded with seed and c), and maps them back: the benchmark's data stays
// outside the Go heap however large n is. A file of the right size left
// by an earlier run (--keep) is used as it is: the data is deterministic.
func syntheticFile(path, kind string, n, dim int, seed uint64, logf func(string, ...any)) ([][]float32, func() error, error) {
	if st, err := os.Stat(path); err == nil && st.Size() == int64(n)*int64(dim)*4 {
		logf("reusing %s", path)
		return mapVectors(path, dim)
	}
	logf("generating %d %s vectors", n, kind)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	const chunk = 65536
	chunks := (n + chunk - 1) / chunk
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lo, hi := c*chunk, min(n, (c+1)*chunk)
			vs := Synthetic(kind, hi-lo, dim, seed*1_000_003+uint64(c))
			b := make([]byte, 0, 4*dim*len(vs))
			for _, v := range vs {
				b = appendF32(b, v)
			}
			if _, err := f.WriteAt(b, int64(lo)*int64(dim)*4); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return mapVectors(path, dim)
}

// mapVectors maps a file of f32 vectors of length dim.
func mapVectors(path string, dim int) ([][]float32, func() error, error) {
	b, unmap, err := mapSequential(path)
	if err != nil {
		return nil, nil, err
	}
	all := bytesAsF32(b)
	out := make([][]float32, len(all)/dim)
	for i := range out {
		out[i] = all[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out, unmap, nil
}

// groundTruth is the exact k nearest of each query. The data is split
// among the CPUs and read once, in blocks that stay in cache while every
// query is scored against them (a query at a time would stream all the
// vectors once a query: terabytes at ten million).
func groundTruth(data, queries [][]float32, k int) [][]int32 {
	workers := runtime.GOMAXPROCS(0)
	tops := make([][]*topK[int32], workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := make([]*topK[int32], len(queries))
			for i := range t {
				t[i] = newTopK[int32](k)
			}
			lo, hi := w*len(data)/workers, (w+1)*len(data)/workers
			const block = 2048
			for b := lo; b < hi; b += block {
				e := min(b+block, hi)
				for i, q := range queries {
					for n := b; n < e; n++ {
						t[i].offer(int32(n), dotF32(q, data[n]))
					}
				}
			}
			tops[w] = t
		}()
	}
	wg.Wait()
	out := make([][]int32, len(queries))
	for i := range queries {
		all := tops[0][i]
		for _, t := range tops[1:] {
			for _, h := range t[i].hits() {
				all.offer(h.ID, h.Score)
			}
		}
		for _, h := range all.hits() {
			out[i] = append(out[i], h.ID)
		}
	}
	return out
}

// keptTruth reads exact neighbours left by an earlier run on the same
// files (nil when there are none of the right size).
func keptTruth(path string, queries, k int) [][]int32 {
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) != 4*k*queries {
		return nil
	}
	out := make([][]int32, queries)
	for i := range out {
		out[i] = make([]int32, k)
		decodeI32(out[i], raw[4*k*i:4*k*(i+1)])
	}
	return out
}

// residentMemory is this process's resident set, and its anonymous and
// file-backed parts, from /proc (zero where there is none).
func residentMemory() (rss, anon, file int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "RssAnon:":
			anon = kb << 10
		case "RssFile:":
			file = kb << 10
		}
	}
	return rss, anon, file
}

// runHnswlib runs hnswlib_bench.py on the benchmark's files (x.f32, q.f32
// and the exact neighbours, t.i32, in dir).
func runHnswlib(o BenchOptions, cfg HNSWConfig, dir string, rep *BenchReport) error {
	script := filepath.Join(dir, "b.py")
	tpath := filepath.Join(dir, "t.i32")
	if err := os.WriteFile(script, hnswlibBench, 0o600); err != nil {
		return err
	}
	efs := make([]string, len(efLadder))
	for i, e := range efLadder {
		efs[i] = strconv.Itoa(e)
	}
	target := ""
	if rep.AtTarget != nil {
		target = strconv.Itoa(rep.AtTarget.Ef)
	}
	cmd := exec.Command(o.Python, script, filepath.Join(dir, "x.f32"), filepath.Join(dir, "q.f32"), tpath,
		strconv.Itoa(o.Dim), strconv.Itoa(cfg.M), strconv.Itoa(cfg.EfConstruction), strconv.Itoa(o.K),
		strings.Join(efs, ","), strconv.FormatFloat(o.Target, 'f', -1, 64), strconv.Itoa(runtime.GOMAXPROCS(0)), target)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("hnswlib (%s): %s", o.Python, lastLine(string(ee.Stderr)))
		}
		return fmt.Errorf("hnswlib (%s): %w", o.Python, err)
	}
	var hl HnswlibReport
	if err := json.Unmarshal(out, &hl); err != nil {
		return fmt.Errorf("hnswlib output: %w", err)
	}
	rep.Hnswlib = &hl
	if rep.Build1 != nil {
		rep.BuildRatio1 = rep.Build1.PerS / hl.Build1.PerS
	}
	rep.BuildRatioAll = rep.BuildAll.PerS / hl.BuildAll.PerS
	rep.HnswlibAtTarget = firstAt(hl.Ef, o.Target)
	if rep.AtTarget != nil && rep.HnswlibAtTarget != nil {
		rep.QPSRatio = rep.AtTarget.QPS / rep.HnswlibAtTarget.QPS
		if rep.HnswlibAtTarget.QPSBatch > 0 {
			rep.QPSRatioBatch = rep.AtTarget.QPS / rep.HnswlibAtTarget.QPSBatch
		}
		if rep.HnswlibAtTarget.QPSAllCPUs > 0 {
			rep.QPSRatioAllCPUs = rep.AtTarget.QPSAllCPUs / rep.HnswlibAtTarget.QPSAllCPUs
		}
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
