package library

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/m3ret/viewer/library/dept"
	"github.com/m3ret/viewer/library/index"
)

// DeptBenchOptions say what `m3ret bench index --backend weaviate://…`
// measures.
type DeptBenchOptions struct {
	N, Dim, Queries, K int
	Data               string // "clustered" or "random"
	Efs                []int
	APIKey             string
}

// DeptBenchPoint is recall@K and latency at one ef.
type DeptBenchPoint = index.EfPoint

// DeptBenchReport compares a Weaviate collection with the local HNSW on
// the same vectors, in the same run.
type DeptBenchReport struct {
	Index       string           `json:"index"`
	Nodes       int              `json:"nodes"`
	N           int              `json:"n"`
	Dim         int              `json:"dim"`
	Data        string           `json:"data"`
	InsertPerS  float64          `json:"insert_per_s"`
	LocalPerS   float64          `json:"local_build_per_s"`
	FilterMatch float64          `json:"filter_match"` // share of items passing the filter
	Filter      string           `json:"filter"`
	Weaviate    []DeptBenchPoint `json:"weaviate"`
	WeaviateF   []DeptBenchPoint `json:"weaviate_filtered"`
	Local       []DeptBenchPoint `json:"local"`
	LocalF      []DeptBenchPoint `json:"local_filtered"`
}

// benchModalities gives 1 item in 8 modality CT: the filtered search.
var benchModalities = []string{"CT", "MR", "US", "CR", "DX", "XA", "MG", "NM"}

// BenchDept fills a new collection at url (dropped at the end) with
// synthetic vectors and measures insert rate, recall@K against exact
// search and latency (p50/p99, one query at a time) at each ef, with and
// without a filter; and the local HNSW on the same vectors.
func BenchDept(ctx context.Context, url string, o DeptBenchOptions, logf func(string, ...any)) (*DeptBenchReport, error) {
	cfg, err := dept.ParseURL(url)
	if err != nil {
		return nil, err
	}
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: "bench@" + o.Data, Dim: o.Dim, Create: true, APIKey: o.APIKey})
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	defer ix.Drop(context.WithoutCancel(ctx))
	if n, err := ix.Count(ctx, ""); err != nil || n > 0 {
		return nil, fmt.Errorf("bench: collection %s must be new (holds %d objects, %v)", cfg.Collection, n, err)
	}
	vecs := index.Synthetic(o.Data, o.N, o.Dim, 1)
	queries := index.Synthetic(o.Data, o.Queries, o.Dim, 2)
	rep := &DeptBenchReport{Index: cfg.String(), Nodes: ix.Nodes(), N: o.N, Dim: o.Dim, Data: o.Data, Filter: "modality:CT"}
	ids, ct := benchIDs(o.N)
	rep.FilterMatch = float64(len(ct)) / float64(o.N)
	if rep.InsertPerS, err = benchInsert(ctx, ix, ids, vecs, logf); err != nil {
		return nil, err
	}
	exact := index.NewExact(o.Dim)
	local := newVectors()
	t0 := time.Now()
	for i, id := range ids {
		exact.Add(id, vecs[i])
		local.Add(id, vecs[i])
	}
	rep.LocalPerS = float64(o.N) / time.Since(t0).Seconds()
	truth, truthF := benchTruth(exact, queries, o.K, ct)
	isCT := func(id string) bool { return ct[id] }
	for _, ef := range o.Efs {
		if err := ix.SetEF(ctx, ef); err != nil {
			return nil, err
		}
		time.Sleep(time.Second) // the new ef reaches every shard
		p, err := benchWeaviate(ctx, ix, queries, truth, o.K, "", ef)
		if err != nil {
			return nil, err
		}
		pf, err := benchWeaviate(ctx, ix, queries, truthF, o.K, rep.Filter, ef)
		if err != nil {
			return nil, err
		}
		local.SetEfSearch(ef)
		rep.Weaviate, rep.WeaviateF = append(rep.Weaviate, p), append(rep.WeaviateF, pf)
		rep.Local = append(rep.Local, benchLocal(local, queries, truth, o.K, nil, ef))
		rep.LocalF = append(rep.LocalF, benchLocal(local, queries, truthF, o.K, isCT, ef))
		logf("ef %d: weaviate recall %.3f p50 %.2f ms; filtered %.3f %.2f ms; local %.3f %.3f ms", ef, p.Recall, p.P50ms, pf.Recall, pf.P50ms,
			rep.Local[len(rep.Local)-1].Recall, rep.Local[len(rep.Local)-1].P50ms)
	}
	return rep, nil
}

func benchIDs(n int) ([]string, map[string]bool) {
	ids := make([]string, n)
	ct := map[string]bool{}
	for i := range ids {
		ids[i] = fmt.Sprintf("b%015x", i)
		if i%len(benchModalities) == 0 {
			ct[ids[i]] = true
		}
	}
	return ids, ct
}

func benchInsert(ctx context.Context, ix *dept.Index, ids []string, vecs [][]float32, logf func(string, ...any)) (float64, error) {
	const batch = 1000
	t0 := time.Now()
	for i := 0; i < len(ids); i += batch {
		j := min(i+batch, len(ids))
		recs := make([]dept.Record, 0, j-i)
		for k := i; k < j; k++ {
			recs = append(recs, dept.Record{ItemID: ids[k], Model: ix.Model(), Kind: "image",
				Modality: benchModalities[k%len(benchModalities)], Format: "dicom", Server: "bench"})
		}
		if err := ix.Upsert(ctx, recs, vecs[i:j]); err != nil {
			return 0, err
		}
		if (j/batch)%20 == 0 {
			logf("inserted %d of %d (%.0f/s)", j, len(ids), float64(j)/time.Since(t0).Seconds())
		}
	}
	return float64(len(ids)) / time.Since(t0).Seconds(), nil
}

func benchTruth(exact *index.Exact, queries [][]float32, k int, ct map[string]bool) (all, filtered [][]string) {
	ctIDs := make([]string, 0, len(ct))
	for id := range ct {
		ctIDs = append(ctIDs, id)
	}
	for _, q := range queries {
		a, _ := exact.Search(q, k, nil)
		f, _ := exact.Score(q, ctIDs, k)
		all, filtered = append(all, hitIDs(a)), append(filtered, hitIDs(f))
	}
	return all, filtered
}

func hitIDs(h []index.Hit) []string {
	out := make([]string, len(h))
	for i, x := range h {
		out[i] = x.ID
	}
	return out
}

func benchWeaviate(ctx context.Context, ix *dept.Index, queries [][]float32, truth [][]string, k int, filter string, ef int) (DeptBenchPoint, error) {
	lat := make([]float64, len(queries))
	found := 0
	for i, q := range queries {
		t0 := time.Now()
		hits, err := ix.Search(ctx, q, k, filter, "")
		lat[i] = time.Since(t0).Seconds()
		if err != nil {
			return DeptBenchPoint{}, err
		}
		for _, h := range hits {
			if slices.Contains(truth[i], h.Record.ItemID) {
				found++
			}
		}
	}
	return index.NewEfPoint(ef, found, len(queries)*k, lat), nil
}

func benchLocal(g *index.HNSW, queries [][]float32, truth [][]string, k int, keep func(string) bool, ef int) DeptBenchPoint {
	lat := make([]float64, len(queries))
	found := 0
	for i, q := range queries {
		t0 := time.Now()
		hits, _ := g.Search(q, k, keep)
		lat[i] = time.Since(t0).Seconds()
		for _, h := range hits {
			if slices.Contains(truth[i], h.ID) {
				found++
			}
		}
	}
	return index.NewEfPoint(ef, found, len(queries)*k, lat)
}
