package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library/index"
)

func cmdBench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "index" {
		return cmdBenchIndex(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ingest" {
		return cmdBenchIngest(args[1:], stdout, stderr)
	}
	if len(args) == 2 && args[0] == "load" { // used by bench index
		secs, err := index.TimeLoadHere(args[1])
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintln(stdout, secs)
		return ExitOK
	}
	if len(args) == 0 || args[0] != "embed" {
		fmt.Fprintln(stderr, "usage: m3ret bench (ingest | embed | index) [flags]")
		return ExitUsage
	}
	fs, c := newFlags("bench embed", stderr)
	python := fs.String("python", "/usr/bin/python3", "Python with torch and onnx for the PyTorch twin (\"\" to skip it)")
	scale := fs.Float64("scale", 1, "multiply the number of items per kind")
	if parse(fs, args[1:]) != nil || fs.NArg() != 0 || *scale <= 0 {
		fmt.Fprintln(stderr, "usage: m3ret bench embed [--json] [--scale X] [--python PATH]")
		return ExitUsage
	}
	enc, _, err := loadEncoder(c, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer enc.Close()
	rep, err := enc.Bench(context.Background(), *python, *scale)
	if err != nil {
		return fail(stderr, err)
	}
	return output(stdout, c.json, rep, func(w io.Writer) { printBench(w, rep) })
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

func cmdBenchIndex(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("bench index", stderr)
	o := index.BenchOptions{K: 10}
	fs.IntVar(&o.N, "n", 100000, "vectors in the index")
	fs.IntVar(&o.Dim, "dim", 256, "vector length")
	fs.IntVar(&o.Queries, "queries", 1000, "queries")
	fs.StringVar(&o.Data, "data", "clustered", "clustered or random")
	fs.Float64Var(&o.Target, "target", 0.98, "recall@10 at which QPS is compared")
	fs.StringVar(&o.Python, "python", "/usr/bin/python3", "Python with hnswlib (\"\" to skip it)")
	if parse(fs, args) != nil || fs.NArg() != 0 || o.N < 100 || o.Dim < 2 || o.Queries < 1 {
		fmt.Fprintln(stderr, "usage: m3ret bench index [--n N] [--dim D] [--data clustered|random] [--json]")
		return ExitUsage
	}
	o.TimeLoad = timeLoadInChild
	rep, err := index.BenchHNSW(o, func(f string, a ...any) { fmt.Fprintf(stderr, "bench: "+f+"\n", a...) })
	if err != nil {
		return fail(stderr, err)
	}
	return output(stdout, c.json, rep, func(w io.Writer) { printBenchIndex(w, rep) })
}

func printBenchIndex(w io.Writer, r *index.BenchReport) {
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
