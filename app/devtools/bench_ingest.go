package devtools

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// ingestBench is what `m3ret bench ingest` reports: the project's own
// decode of a set of files, and dcmtk's decode of the same files in the
// same run with the same number of workers.
type ingestBench struct {
	Files       int     `json:"files"`
	MB          float64 `json:"mb"`
	Workers     int     `json:"workers"`
	Seconds     float64 `json:"seconds"`
	FilesPerSec float64 `json:"files_per_s"`
	MBPerSec    float64 `json:"mb_per_s"`
	Failed      int     `json:"failed"`
	Reference   struct {
		Tool        string  `json:"tool"`
		Seconds     float64 `json:"seconds"`
		FilesPerSec float64 `json:"files_per_s"`
		Failed      int     `json:"failed"`
	} `json:"reference"`
	// Ratio is our files/s over dcmtk's (above 1: faster than dcmtk).
	Ratio float64 `json:"ratio"`
}

func benchIngestCommand() cli.Command {
	var workers int
	var tool string
	return cli.Command{Name: "bench ingest", Args: "[--json] [--workers N] [--tool dcml2pnm] PATH...",
		Help: "decoding speed of files, against dcmtk",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&workers, "workers", runtime.NumCPU(), "decode workers (both sides)")
			fs.StringVar(&tool, "tool", "dcml2pnm", "dcmtk program that decodes one file (\"\" to skip)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() > 0 && workers >= 1 },
		Run:   func(e *cli.Env) int { return runBenchIngest(e, workers, tool) }}
}

func runBenchIngest(e *cli.Env, workers int, tool string) int {
	var files []string
	for _, p := range e.Args {
		f, err := library.Walk(p)
		if err != nil {
			return cli.Fail(e.Stderr, err)
		}
		files = append(files, f...)
	}
	r := &ingestBench{Files: len(files), Workers: workers}
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			r.MB += float64(st.Size()) / 1e6
		}
	}
	ctx := context.Background()
	r.Seconds, r.Failed = timePool(files, workers, func(f string) error { _, err := library.ReadFile(ctx, f); return err })
	r.FilesPerSec, r.MBPerSec = float64(r.Files)/r.Seconds, r.MB/r.Seconds
	if tool != "" {
		if _, err := exec.LookPath(tool); err != nil {
			return cli.Fail(e.Stderr, fmt.Errorf("%s not found (install dcmtk, or --tool \"\"): %w", tool, err))
		}
		r.Reference.Tool = tool
		r.Reference.Seconds, r.Reference.Failed = timePool(files, workers, func(f string) error {
			return exec.Command(tool, "+Fa", f, os.DevNull).Run()
		})
		r.Reference.FilesPerSec = float64(r.Files) / r.Reference.Seconds
		r.Ratio = r.FilesPerSec / r.Reference.FilesPerSec
	}
	return e.Output(r, func(w io.Writer) { printBenchIngest(w, r) })
}

func printBenchIngest(w io.Writer, r *ingestBench) {
	fmt.Fprintf(w, "%d files, %.1f MB, %d workers\n", r.Files, r.MB, r.Workers)
	fmt.Fprintf(w, "m3ret:  %.2f s  %.1f files/s  %.1f MB/s  (%d failed)\n", r.Seconds, r.FilesPerSec, r.MBPerSec, r.Failed)
	if r.Reference.Tool != "" {
		fmt.Fprintf(w, "%s: %.2f s  %.1f files/s  (%d failed)\n", r.Reference.Tool, r.Reference.Seconds, r.Reference.FilesPerSec, r.Reference.Failed)
		fmt.Fprintf(w, "ratio:  %.2f× dcmtk's files/s\n", r.Ratio)
	}
}

// timePool runs fn over files with n workers and returns the wall time and
// the number of failures.
func timePool(files []string, n int, fn func(string) error) (float64, int) {
	var g errgroup.Group
	g.SetLimit(n)
	errs := make([]error, len(files))
	start := time.Now()
	for i, f := range files {
		g.Go(func() error { errs[i] = fn(f); return nil })
	}
	_ = g.Wait()
	secs := time.Since(start).Seconds()
	return max(secs, 1e-9), len(errs) - countNil(errs)
}

func countNil(errs []error) int {
	n := 0
	for _, e := range errs {
		if e == nil {
			n++
		}
	}
	return n
}
