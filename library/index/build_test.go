package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/m3ret/viewer/library/racetest"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%d", i)
	}
	return out
}

func exactOf(data [][]float32) *Exact {
	e := NewExact(0)
	for i, v := range data {
		_ = e.Add(fmt.Sprintf("v%d", i), v)
	}
	return e
}

// checkGraph verifies the graph's structure: link counts within bounds,
// links to live nodes present on their layer, no self-links.
func checkGraph[K comparable](t *testing.T, h *Graph[K]) {
	t.Helper()
	for n := range h.ids {
		if h.gone[n] {
			continue
		}
		for lc := 0; lc <= int(h.levels[n]); lc++ {
			s := h.slot(int32(n), lc)
			if s[0] < 0 || int(s[0]) > h.maxLinks(lc) {
				t.Fatalf("node %d layer %d: %d links", n, lc, s[0])
			}
			for _, x := range s[1 : 1+s[0]] {
				if int(x) == n || int(h.levels[x]) < lc {
					t.Fatalf("node %d layer %d links %d (level %d)", n, lc, x, h.levels[x])
				}
			}
		}
	}
}

// The parallel build runs under -race on a small set: every link list is
// read and written under its node's lock.
func TestAddBatchParallel(t *testing.T) {
	data := dataset("clustered", 3000, 32, 21)
	h := NewHNSW(0, DefaultHNSW)
	if err := h.AddBatch(context.Background(), ids(len(data)), data, 4, nil); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, h)
	if h.Len() != len(data) {
		t.Fatalf("len %d", h.Len())
	}
	h.SetEfSearch(64)
	if r := recall(t, h, exactOf(data), dataset("clustered", 100, 32, 22), 10, nil); r < 0.97 {
		t.Fatalf("recall@10 %.4f", r)
	}
	// A second batch replacing some ids and adding others, while readers search.
	more := dataset("clustered", 600, 32, 23)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if _, err := h.Search(more[i], 5, nil); err != nil {
				t.Error(err)
			}
		}
	}()
	moreIDs := ids(3300)[2700:]
	if err := h.AddBatch(context.Background(), moreIDs, more, 3, nil); err != nil {
		t.Fatal(err)
	}
	<-done
	checkGraph(t, h)
	if h.Len() != 3300 {
		t.Fatalf("len %d after the second batch, want 3300", h.Len())
	}
	if got, _ := h.Search(more[0], 1, nil); got[0].ID != "v2700" || got[0].Score < 0.9999 {
		t.Fatalf("replaced vector: %+v", got)
	}
}

// The graph built on several threads is as good as the one built on one
// (the issue: recall within 0.002 at 1M; here 20,000 vectors, 1,000
// queries, and a bound of 0.005 for the smaller sample).
func TestAddBatchQuality(t *testing.T) {
	racetest.Heavy(t)
	data := dataset("clustered", 20000, 64, 24)
	queries := dataset("clustered", 1000, 64, 25)
	e := exactOf(data)
	var got [2]float64
	for i, workers := range []int{1, 4} {
		h := NewHNSW(0, DefaultHNSW)
		if err := h.AddBatch(context.Background(), ids(len(data)), data, workers, nil); err != nil {
			t.Fatal(err)
		}
		checkGraph(t, h)
		h.SetEfSearch(24)
		got[i] = recall(t, h, e, queries, 10, nil)
	}
	t.Logf("recall@10 at ef 24: one thread %.4f, four %.4f", got[0], got[1])
	if got[1] < got[0]-0.005 || got[0] < 0.9 {
		t.Fatalf("recall@10 at ef 24: one thread %.4f, four %.4f", got[0], got[1])
	}
}

// A cancelled batch leaves a consistent graph holding what was inserted.
func TestAddBatchCancelled(t *testing.T) {
	data := dataset("clustered", 4000, 32, 26)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			h := NewHNSW(0, DefaultHNSW)
			ctx, cancel := context.WithCancel(context.Background())
			err := h.AddBatch(ctx, ids(len(data)), data, workers, func(done, total int) {
				if done >= 1000 {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v", err)
			}
			n := h.Len()
			if n < 1000 || n >= len(data) {
				t.Fatalf("%d kept after cancelling at 1000", n)
			}
			checkGraph(t, h)
			for _, k := range h.Keys() { // every kept node is reachable
				var i int
				fmt.Sscanf(k, "v%d", &i)
				h.SetEfSearch(64)
				if got, _ := h.Search(data[i], 1, nil); got[0].Score < 0.9999 {
					t.Fatalf("%s not found: %+v", k, got)
				}
			}
		})
	}
}

// A search allocates only its result (without -race: sync.Pool drops
// items at random under it).
func TestSearchAllocations(t *testing.T) {
	racetest.Heavy(t)
	data := dataset("clustered", 2000, 32, 27)
	for _, quant := range []bool{false, true} {
		cfg := DefaultHNSW
		cfg.Quantize = quant
		h := NewHNSW(0, cfg)
		_ = h.AddBatch(context.Background(), ids(len(data)), data, 1, nil)
		_, _ = h.Search(data[0], 10, nil)
		if a := testing.AllocsPerRun(100, func() { _, _ = h.Search(data[5], 10, nil) }); a > 1 {
			t.Errorf("quantized %v: %.1f allocations per search, want 1 (the result)", quant, a)
		}
	}
}

// int8 vectors: the walk on codes, the exact re-ranking on float32 ones,
// saved beside the graph and mapped back; a vector file from another save
// is refused. Without -race (12 s under it): the quantized parallel build
// runs under -race in TestQuantizedAppendSave.
func TestQuantizedGraph(t *testing.T) {
	racetest.Heavy(t)
	data := dataset("clustered", 6000, 64, 28)
	queries := dataset("clustered", 200, 64, 29)
	h := quantizedGraph(t, ids(len(data)), data, 2)
	e := exactOf(data)
	h.SetEfSearch(64)
	if r := recall(t, h, e, queries, 10, nil); r < 0.97 {
		t.Fatalf("recall@10 after re-ranking %.4f", r)
	}
	got, _ := h.Search(data[10], 1, nil)
	if got[0].ID != "v10" || got[0].Score < 0.9999 { // exact scores after re-ranking
		t.Fatalf("got %+v", got)
	}
	h.Remove("v3")
	e.Remove("v3")
	_ = h.Add("new", queries[0])
	_ = e.Add("new", queries[0])
	dir := t.TempDir()
	path := dir + "/vectors.hnsw"
	if err := h.Save(path, "t", StringKeys); err != nil {
		t.Fatal(err)
	}
	g, _, err := LoadHNSW(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !g.Quantized() || g.Len() != e.Len() {
		t.Fatalf("loaded: quantized %v, len %d, want %d", g.Quantized(), g.Len(), e.Len())
	}
	for _, q := range queries[:50] {
		a, _ := h.Search(q, 10, nil)
		b, _ := g.Search(q, 10, nil)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("rank %d: %v before saving, %v after", i, a[i], b[i])
			}
		}
	}
	_ = g.Add("later", queries[1]) // added after loading: its float32 vector is in memory
	if got, _ := g.Search(queries[1], 1, nil); got[0].ID != "later" || got[0].Score < 0.9999 {
		t.Fatalf("after adding to a loaded graph: %+v", got)
	}
	// The vector file of another save of the same graph is refused.
	other := dir + "/other.hnsw"
	if err := h.Save(other, "t", StringKeys); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(other + rawSuffix)
	_ = os.WriteFile(path+rawSuffix, raw, 0o600)
	if _, _, err := LoadHNSW(path); !errors.Is(err, ErrCorruptIndex) {
		t.Fatalf("mismatched vector file: %v", err)
	}
	raw[len(raw)-10] ^= 1 // a flipped bit in a vector (small files are checksummed)
	_ = os.WriteFile(other+rawSuffix, raw, 0o600)
	if _, _, err := LoadHNSW(other); !errors.Is(err, ErrCorruptIndex) {
		t.Fatalf("flipped bit: %v", err)
	}
	_ = os.Remove(path + rawSuffix)
	if _, _, err := LoadHNSW(path); !errors.Is(err, ErrCorruptIndex) {
		t.Fatalf("missing vector file: %v", err)
	}
}

// Recall of the int8 graph at the shipped efSearch, on the sizes of the
// float32 recall test.
func TestQuantizedRecall(t *testing.T) {
	racetest.Heavy(t)
	data := dataset("clustered", 20000, 256, 30)
	queries := dataset("clustered", 300, 256, 31)
	h := quantizedGraph(t, ids(len(data)), data, 0)
	checkGraph(t, h)
	if r := recall(t, h, exactOf(data), queries, 10, nil); r < 0.98 {
		t.Fatalf("recall@10 %.4f at ef %d", r, DefaultHNSW.EfSearch)
	} else {
		t.Logf("recall@10 %.4f at ef %d", r, DefaultHNSW.EfSearch)
	}
}

// Saving a loaded int8 graph appends the new vectors to its vector file
// instead of rewriting it; a removal makes the next save write it anew;
// bytes left by an interrupted append are ignored, then cut off.
func TestQuantizedAppendSave(t *testing.T) {
	data := dataset("clustered", 2500, 32, 32)
	h := quantizedGraph(t, ids(2000), data[:2000], 2)
	path := t.TempDir() + "/vectors.hnsw"
	if err := h.Save(path, "t", StringKeys); err != nil {
		t.Fatal(err)
	}
	header := func() []byte { b, _ := os.ReadFile(path + rawSuffix); return b[:rawHeader] }
	size := func() int64 { st, _ := os.Stat(path + rawSuffix); return st.Size() }
	first, firstSize := header(), size()
	// an interrupted append left half a vector behind
	f, _ := os.OpenFile(path+rawSuffix, os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.Write(make([]byte, 70))
	f.Close()
	g, _, err := LoadHNSW(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.AddBatch(context.Background(), ids(2500)[2000:], data[2000:], 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := g.Save(path, "t", StringKeys); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(header(), first) || size() != firstSize+500*32*4 {
		t.Fatalf("not appended: size %d, was %d", size(), firstSize)
	}
	check := func(want int) *HNSW {
		t.Helper()
		g, _, err := LoadHNSW(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.Len() != want {
			t.Fatalf("len %d, want %d", g.Len(), want)
		}
		for _, i := range []int{5, 1999, 2000, 2499} {
			if got, _ := g.Search(data[i], 1, nil); len(got) == 0 || got[0].ID != fmt.Sprintf("v%d", i) && got[0].Score < 0.9999 {
				t.Fatalf("v%d: %+v", i, got)
			}
		}
		return g
	}
	g = check(2500)
	g.Remove("v7")
	if err := g.Save(path, "t", StringKeys); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(header(), first) || size() != rawHeader+2499*32*4 {
		t.Fatalf("after a removal: same token %v, size %d", bytes.Equal(header(), first), size())
	}
	check(2499)
}

// A loaded int8 graph's codes mapped from its file (as from 32 MiB, here
// from 1 byte) search as the graph saved, take new items (copied out of
// the mapping), save again and close.
func TestQuantizedMappedCodes(t *testing.T) {
	defer func(v int) { mapCodesFrom = v }(mapCodesFrom)
	mapCodesFrom = 1
	data := dataset("clustered", 1200, 32, 40)
	h := quantizedGraph(t, ids(1000), data[:1000], 1)
	path := t.TempDir() + "/q.hnsw"
	if err := h.Save(path, "t", StringKeys); err != nil {
		t.Fatal(err)
	}
	g, _, err := LoadHNSW(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.unmapCodes == nil {
		t.Fatal("codes read, not mapped")
	}
	for _, q := range data[1000:1050] {
		a, _ := h.Search(q, 10, nil)
		b, _ := g.Search(q, 10, nil)
		if !slices.Equal(a, b) {
			t.Fatalf("saved %v, loaded %v", a, b)
		}
	}
	if err := g.AddBatch(context.Background(), ids(1200)[1000:], data[1000:], 2, nil); err != nil {
		t.Fatal(err)
	}
	g.Remove("v7")
	if got, _ := g.Search(data[1100], 1, nil); got[0].ID != "v1100" {
		t.Fatalf("after adding to the mapped graph: %+v", got)
	}
	if err := g.Save(path, "t", StringKeys); err != nil { // over the mapped file
		t.Fatal(err)
	}
	k, _, err := LoadHNSW(path)
	if err != nil || k.Len() != 1199 {
		t.Fatalf("reloaded: %v, %d items", err, k.Len())
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
}

// quantizedGraph is an int8 graph of vecs under ids, built from workers
// goroutines (0: one per CPU).
func quantizedGraph(t *testing.T, ids []string, vecs [][]float32, workers int) *HNSW {
	t.Helper()
	cfg := DefaultHNSW
	cfg.Quantize = true
	h := NewHNSW(0, cfg)
	if err := h.AddBatch(context.Background(), ids, vecs, workers, nil); err != nil {
		t.Fatal(err)
	}
	return h
}
