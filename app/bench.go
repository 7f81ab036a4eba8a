package app

import (
	"context"
	"fmt"
	"io"

	"github.com/m3ret/viewer/inference"
)

func cmdBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "embed" {
		fmt.Fprintln(stderr, "usage: m3ret bench embed [--json] [--scale X] [--python PATH]")
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
	if c.json {
		writeJSON(stdout, rep)
		return ExitOK
	}
	printBench(stdout, rep)
	return ExitOK
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
