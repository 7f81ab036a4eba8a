// Package devtools holds the developer tools that share the m3ret binary
// with the product: `bench embed|index|ingest|decode` (speed against a peer in the
// same run: a PyTorch twin, hnswlib, dcmtk), `eval` (leave-one-out
// retrieval quality over labelled items, with precision@k plots) and
// `dataset` (training arrays for inference/train). They reach the domain
// through the library facade, like the window.
package devtools

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

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

// benchLoadCommand times loading a saved graph in this process; bench
// index runs it in a fresh one.
func benchLoadCommand() cli.Command {
	return cli.Command{Name: "bench load", Args: "GRAPH", Hidden: true,
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 1 },
		Run: func(e *cli.Env) int {
			secs, err := library.TimeIndexLoad(e.Args[0])
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			fmt.Fprintln(e.Stdout, secs)
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
	return cli.Command{Name: "bench index", Args: "[--n N] [--dim D] [--data clustered|random] [--backend local|weaviate://HOST:PORT/COLLECTION] [--json]",
		Help: "vector index build, recall and speed, against hnswlib (or a Weaviate department index against ours)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&backend, "backend", "local", "local (our HNSW against hnswlib), or a new Weaviate collection to fill, measure and drop")
			fs.IntVar(&o.N, "n", 100000, "vectors in the index")
			fs.IntVar(&o.Dim, "dim", 256, "vector length")
			fs.IntVar(&o.Queries, "queries", 1000, "queries")
			fs.StringVar(&o.Data, "data", "clustered", "clustered or random")
			fs.Float64Var(&o.Target, "target", 0.98, "recall@10 at which QPS is compared")
			fs.StringVar(&o.Python, "python", "/usr/bin/python3", "Python with hnswlib (\"\" to skip it)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 && o.N >= 100 && o.Dim >= 2 && o.Queries >= 1 },
		Run: func(e *cli.Env) int {
			if backend != "local" {
				return benchDept(e, backend, o)
			}
			o.TimeLoad = timeLoadInChild
			rep, err := library.BenchIndex(o, func(f string, a ...any) { fmt.Fprintf(e.Stderr, "bench: "+f+"\n", a...) })
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return e.Output(rep, func(w io.Writer) { printBenchIndex(w, rep) })
		}}
}

func printBenchIndex(w io.Writer, r *library.IndexBenchReport) {
	fmt.Fprintf(w, "%d %s vectors of %d-d, M %d, efConstruction %d (%s)\n", r.N, r.Data, r.Dim, r.M, r.EfConstruction, r.Threads)
	fmt.Fprintf(w, "build %.0f/s, %.0f bytes/item, save %.2f s, load %.2f s\n", r.BuildPerS, r.BytesPerItem, r.SaveSeconds, r.LoadSeconds)
	fmt.Fprintf(w, "%5s %8s %8s %8s %9s", "ef", "recall", "p50 ms", "p99 ms", "QPS")
	if r.Hnswlib != nil {
		fmt.Fprintf(w, " | hnswlib: %8s %8s %8s %9s", "recall", "p50 ms", "p99 ms", "QPS")
	}
	fmt.Fprintln(w)
	for i, p := range r.Ours {
		fmt.Fprintf(w, "%5d %8.4f %8.3f %8.3f %9.0f", p.Ef, p.Recall, p.P50ms, p.P99ms, p.QPS)
		if r.Hnswlib != nil && i < len(r.Hnswlib.Ef) {
			h := r.Hnswlib.Ef[i]
			fmt.Fprintf(w, " |          %8.4f %8.3f %8.3f %9.0f", h.Recall, h.P50ms, h.P99ms, h.QPS)
		}
		fmt.Fprintln(w)
	}
	if r.HnswlibError != "" {
		fmt.Fprintf(w, "hnswlib not run: %s\n", r.HnswlibError)
	} else if r.Hnswlib != nil {
		fmt.Fprintf(w, "build rate ours/hnswlib %.2f; QPS at recall >= target ours/hnswlib %.2f\n", r.BuildRatio, r.QPSRatio)
	}
}

// timeLoadInChild times loading a graph in a fresh process, as a library
// opening it would.
func timeLoadInChild(path string) (float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	out, err := exec.Command(exe, "bench", "load", path).Output()
	if err != nil {
		return 0, fmt.Errorf("time load: %w", err)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}
