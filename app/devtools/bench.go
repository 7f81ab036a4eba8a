// Package devtools holds the developer tools that share the m3ret binary
// with the product: `bench embed|index|ingest|decode` (speed against a peer in the
// same run: a PyTorch twin, hnswlib, dcmtk), `eval` (leave-one-out
// retrieval quality over labelled items, with precision@k plots) and
// `dataset` (training arrays for inference/train). They reach the domain
// through the library facade, like the window.
package devtools

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// Commands are the developer tools, for the command table: benchmarks,
// the evaluation harness and the training-data exporter.
func Commands() []cli.Command {
	return []cli.Command{benchEmbedCommand(), benchIndexCommand(), benchIngestCommand(), benchDecodeCommand(), benchLoadCommand(),
		benchPACSCommand(), evalCommand(), datasetCommand()}
}

func benchEmbedCommand() cli.Command {
	var python string
	var scale float64
	return cli.Command{Name: "bench embed", Args: "[--json] [--scale X] [--python PATH]",
		Help: "embedding speed per kind, against a PyTorch twin",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&python, "python", "/usr/bin/python3", "Python with torch and onnx for the PyTorch twin (\"\" to skip it)")
			fs.Float64Var(&scale, "scale", 1, "multiply the number of items per kind")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 && scale > 0 },
		Run: func(e *cli.Env) int {
			enc, _, err := cli.LoadEncoder(&e.Common, e.Stderr)
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			defer enc.Close()
			rep, err := enc.Bench(context.Background(), python, scale)
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return e.Output(rep, func(w io.Writer) { printBench(w, rep) })
		}}
}

// benchLoadCommand opens a saved graph in this process and runs the
// benchmark's queries on it; bench index runs it in a fresh one.
func benchLoadCommand() cli.Command {
	var queries string
	var k, ef int
	return cli.Command{Name: "bench load", Args: "[--queries FILE --k K --ef EF] GRAPH", Hidden: true,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&queries, "queries", "", "query vectors (f32), with the exact neighbours in t.i32 beside them")
			fs.IntVar(&k, "k", 10, "neighbours")
			fs.IntVar(&ef, "ef", 96, "efSearch")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 1 },
		Run: func(e *cli.Env) int {
			rep, err := library.OpenIndexHere(e.Args[0], queries, k, ef)
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			if err := cli.WriteJSON(e.Stdout, rep); err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return cli.ExitOK
		}}
}

func printBench(w io.Writer, r *inference.BenchReport) {
	fmt.Fprintf(w, "model %s on %s, %d CPUs (%s)\n", r.Model, r.Provider, r.CPUs, r.Note)
	for _, k := range r.Kinds {
		fmt.Fprintf(w, "  %-8s %-16s %4d items in %6.2f s: %8.1f items/s\n", k.Kind, k.Input, k.Items, k.Seconds, k.ItemsPerS)
	}
	t := r.Twin
	fmt.Fprintf(w, "same %d tensors, %d threads: ONNX Runtime %.1f items/s", t.Batch, t.Threads, t.ORTItemsPerS)
	if t.TorchError != "" {
		fmt.Fprintf(w, "; PyTorch twin not run: %s\n", t.TorchError)
		return
	}
	fmt.Fprintf(w, ", PyTorch eager %.1f items/s: ratio %.2f×; %.3g FLOP/item, %.3g FLOP/s achieved; max |diff| %.2g\n",
		t.TorchItemsPerS, t.Ratio, t.FLOPsPerItem, t.AchievedFLOPS, t.MaxAbsDiff)
}

func benchIndexCommand() cli.Command {
	o := library.IndexBenchOptions{K: 10}
	var backend string
	return cli.Command{Name: "bench index", Args: "[--n N] [--dim D] [--data clustered|random] [--int8] [--skip-single] [--backend local|weaviate://HOST:PORT/COLLECTION] [--json]",
		Help: "vector index build, recall and speed, against hnswlib (or a Weaviate department index against ours)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&backend, "backend", "local", "local (our HNSW against hnswlib), or a new Weaviate collection to fill, measure and drop")
			fs.IntVar(&o.N, "n", 100000, "vectors in the index")
			fs.IntVar(&o.Dim, "dim", 256, "vector length")
			fs.IntVar(&o.Queries, "queries", 1000, "queries")
			fs.StringVar(&o.Data, "data", "clustered", "clustered or random")
			fs.Float64Var(&o.Target, "target", 0.98, "recall@10 at which QPS is compared")
			fs.StringVar(&o.Python, "python", "/usr/bin/python3", "Python with hnswlib (\"\" to skip it)")
			fs.BoolVar(&o.Quantize, "int8", false, "int8 vectors in memory, re-ranked on float32 ones mapped from disk")
			fs.BoolVar(&o.SkipSingle, "skip-single", false, "skip the one-thread build (very large --n)")
			fs.IntVar(&o.EfConstruction, "ef-construction", 0, "efConstruction (default: the shipped 200)")
			fs.StringVar(&o.Keep, "keep", "", "folder to keep the vectors, queries and saved graph in (default: a temporary one)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 && o.N >= 100 && o.Dim >= 2 && o.Queries >= 1 },
		Run: func(e *cli.Env) int {
			if backend != "local" {
				return benchDept(e, backend, o)
			}
			o.TimeLoad = openInChild
			rep, err := library.BenchIndex(o, func(f string, a ...any) { fmt.Fprintf(e.Stderr, "bench: "+f+"\n", a...) })
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return e.Output(rep, func(w io.Writer) { printBenchIndex(w, rep) })
		}}
}

func printBenchIndex(w io.Writer, r *library.IndexBenchReport) {
	fmt.Fprintf(w, "%d %s vectors of %d-d, %s in memory, M %d, efConstruction %d, %d CPUs\n", r.N, r.Data, r.Dim, r.Vectors, r.M, r.EfConstruction, r.CPUs)
	hl := r.Hnswlib
	fmt.Fprintf(w, "%-28s %12s %12s\n", "build (inserts/s)", "ours", "hnswlib")
	buildRow := func(name string, ours *library.IndexBuildRun, theirs *library.IndexBuildRun) {
		fmt.Fprintf(w, "%-28s", name)
		for _, b := range []*library.IndexBuildRun{ours, theirs} {
			if b == nil || b.PerS == 0 {
				fmt.Fprintf(w, " %12s", "-")
				continue
			}
			fmt.Fprintf(w, " %12.0f", b.PerS)
		}
		fmt.Fprintln(w)
	}
	var h1, hAll *library.IndexBuildRun
	if hl != nil {
		h1, hAll = &hl.Build1, &hl.BuildAll
	}
	buildRow("one thread", r.Build1, h1)
	buildRow(fmt.Sprintf("%d threads", r.CPUs), &r.BuildAll, hAll)
	fmt.Fprintf(w, "memory %.0f bytes/item, disk %.0f bytes/item, save %.2f s, ground truth %.1f s\n", r.BytesPerItem, r.DiskPerItem, r.SaveSeconds, r.GroundTruthSecs)
	if o := r.Open; o != nil {
		fmt.Fprintf(w, "opened in a fresh process in %.2f s; resident %.2f GB after open, %.2f GB after the queries (anonymous %.2f, file %.2f); recall %.4f, p50 %.3f ms, p99 %.3f ms\n",
			o.Seconds, gb(o.RSSAfterOpen), gb(o.RSSAfterQueries), gb(o.RSSAnon), gb(o.RSSFile), o.Recall, o.P50ms, o.P99ms)
	}
	fmt.Fprintf(w, "%5s %8s %8s %8s %9s", "ef", "recall", "p50 ms", "p99 ms", "QPS")
	if r.Vectors == "int8" {
		fmt.Fprintf(w, " %8s", "codes")
	}
	if hl != nil {
		fmt.Fprintf(w, " | hnswlib: %8s %8s %8s %9s %9s", "recall", "p50 ms", "p99 ms", "QPS", "batch QPS")
	}
	fmt.Fprintln(w)
	for i, p := range r.Ours {
		fmt.Fprintf(w, "%5d %8.4f %8.3f %8.3f %9.0f", p.Ef, p.Recall, p.P50ms, p.P99ms, p.QPS)
		if r.Vectors == "int8" {
			fmt.Fprintf(w, " %8.4f", p.RecallCodes)
		}
		if hl != nil && i < len(hl.Ef) {
			h := hl.Ef[i]
			fmt.Fprintf(w, " |          %8.4f %8.3f %8.3f %9.0f %9.0f", h.Recall, h.P50ms, h.P99ms, h.QPS, h.QPSBatch)
		}
		fmt.Fprintln(w)
	}
	if r.HnswlibError != "" {
		fmt.Fprintf(w, "hnswlib not run: %s\n", r.HnswlibError)
	} else if hl != nil {
		fmt.Fprintf(w, "ours/hnswlib: build %.2f (one thread), %.2f (%d threads); QPS at recall >= target %.2f (one thread; %.2f against its one-call batch), %.2f (%d threads)\n",
			r.BuildRatio1, r.BuildRatioAll, r.CPUs, r.QPSRatio, r.QPSRatioBatch, r.QPSRatioAllCPUs, r.CPUs)
	}
}

func gb(b int64) float64 { return float64(b) / 1e9 }

// openInChild opens a graph and runs the queries in a fresh process, as a
// library opening it would.
func openInChild(graph, queries string, k, ef int) (*library.IndexOpenReport, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(exe, "bench", "load", "--queries", queries, "--k", strconv.Itoa(k), "--ef", strconv.Itoa(ef), graph).Output()
	if err != nil {
		return nil, fmt.Errorf("open in a fresh process: %w", err)
	}
	var r library.IndexOpenReport
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("open in a fresh process: %w", err)
	}
	return &r, nil
}
