package devtools

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// benchDept is `bench index --backend weaviate://…`: a department index
// against our HNSW on the same vectors.
func benchDept(e *cli.Env, url string, o library.IndexBenchOptions) int {
	if !library.IsDeptURL(url) {
		return cli.Fail(e.Stderr, fmt.Errorf("--backend: want local or weaviate://HOST:PORT/COLLECTION"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	apiKey, err := cli.DeptKey()
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	rep, err := library.BenchDept(ctx, url, library.DeptBenchOptions{N: o.N, Dim: o.Dim, Queries: o.Queries, K: o.K, Data: o.Data,
		Efs: []int{16, 32, 64, 128, 256, 512}, APIKey: apiKey},
		func(f string, a ...any) { fmt.Fprintf(e.Stderr, "bench: "+f+"\n", a...) })
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	return e.Output(rep, func(w io.Writer) { printBenchDept(w, rep) })
}

func printBenchDept(w io.Writer, r *library.DeptBenchReport) {
	fmt.Fprintf(w, "%d %s vectors of %d-d; Weaviate on %d node(s): insert %.0f/s; local HNSW build %.0f/s\n",
		r.N, r.Data, r.Dim, r.Nodes, r.InsertPerS, r.LocalPerS)
	fmt.Fprintf(w, "filter %s matches %.1f %%\n", r.Filter, 100*r.FilterMatch)
	fmt.Fprintf(w, "%5s | %-26s | %-26s | %-26s | %-26s\n", "ef", "weaviate recall p50 p99", "weaviate filtered", "local HNSW", "local filtered")
	for i := range r.Weaviate {
		fmt.Fprintf(w, "%5d |", r.Weaviate[i].Ef)
		for _, p := range []library.DeptBenchPoint{r.Weaviate[i], r.WeaviateF[i], r.Local[i], r.LocalF[i]} {
			fmt.Fprintf(w, " %6.4f %7.2f %7.2f ms |", p.Recall, p.P50ms, p.P99ms)
		}
		fmt.Fprintln(w)
	}
}
