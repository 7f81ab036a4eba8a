package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/m3ret/viewer/app/adapt"
	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/devtools"
)

// adaptFlags are the flags of `m3ret adapt`.
type adaptFlags struct {
	o       adapt.Options
	labels  string
	accept  bool
	use     string
	verbose bool
}

func adaptCommand() cli.Command {
	var f adaptFlags
	return cli.Command{Name: "adapt", Args: "[--minutes N] [--labels FILE.csv] [--accept] [--json] | --use NAME",
		Help: "train the library's model further on its own items (needs PyTorch); --accept switches to it",
		Flags: func(fs *flag.FlagSet) {
			fs.Float64Var(&f.o.Minutes, "minutes", 30, "training time, wall-clock (reading and scoring the items come on top)")
			fs.StringVar(&f.labels, "labels", "", "CSV of path,label: also score by label before and after (default: the labels set with m3ret label)")
			fs.BoolVar(&f.accept, "accept", false, "switch the library to the new model (re-embeds every item)")
			fs.StringVar(&f.use, "use", "", "switch the library to a model adapted earlier (NAME in LIBRARY/models), without training")
			fs.IntVar(&f.o.Items, "items", adapt.DefaultItems, "train on at most this many items (a seeded sample of them beyond)")
			fs.IntVar(&f.o.EvalItems, "eval-items", adapt.DefaultEvalItems, "score at most this many of them before and after")
			fs.IntVar(&f.o.Steps, "steps", 0, "stop after this many training steps (0: when the time is up)")
			fs.Uint64Var(&f.o.Seed, "seed", 1, "seed of the sample, the training and the perturbed copies")
			fs.BoolVar(&f.verbose, "verbose", false, "show the trainer's lines (losses every 10 steps)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 && f.o.Minutes > 0 },
		Run:   func(e *cli.Env) int { return runAdapt(e, &f) }}
}

func runAdapt(e *cli.Env, f *adaptFlags) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if f.use != "" {
		return useAdapted(ctx, e, f.use)
	}
	o := f.o
	o.Python, o.Notes, o.Stage = adapt.FindPython(), e.Stderr, stageProgress(e.Stderr)
	if f.verbose {
		o.Log = e.Stderr
	}
	if f.labels != "" {
		labels, err := devtools.ReadLabels(f.labels)
		if err != nil {
			return cli.Fail(e.Stderr, err)
		}
		o.Labels = labels
	}
	res, err := adapt.Run(ctx, &e.Common, o)
	if err != nil {
		return adaptFailed(e, err)
	}
	if f.accept {
		fmt.Fprintf(e.Stderr, "m3ret: switching the library to %s\n", res.Name)
		res.Accepted, err = adapt.Switch(ctx, &e.Common, res.Manifest, e.Stderr, cli.Progress(e.Stderr, "re-embedding"))
		if err != nil {
			e.Output(res, func(w io.Writer) { printAdapt(w, e.Library, res) })
			return adaptFailed(e, fmt.Errorf("switch to %s: %w (the library keeps its model)", res.Name, err))
		}
	}
	code := e.Output(res, func(w io.Writer) { printAdapt(w, e.Library, res) })
	if code == cli.ExitOK && res.Accepted != nil && len(res.Accepted.Failed) > 0 {
		return cli.ExitPartial
	}
	return code
}

func adaptFailed(e *cli.Env, err error) int {
	switch {
	case adapt.Cancelled(err):
		fmt.Fprintln(e.Stderr, "\nm3ret: adapt cancelled; the library keeps its model (the scratch folder is removed)")
		return cli.ExitError
	case errors.Is(err, adapt.ErrNoTorch):
		fmt.Fprintf(e.Stderr, "m3ret: %v\n", err)
		return cli.ExitError
	}
	return cli.Fail(e.Stderr, err)
}

// useAdapted switches the library to a model adapted earlier.
func useAdapted(ctx context.Context, e *cli.Env, name string) int {
	path, err := adapt.Find(e.Library, name)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	sw, err := adapt.Switch(ctx, &e.Common, path, e.Stderr, cli.Progress(e.Stderr, "re-embedding"))
	if err != nil {
		return adaptFailed(e, err)
	}
	code := e.Output(sw, func(w io.Writer) { printSwitched(w, sw) })
	if code == cli.ExitOK && len(sw.Failed) > 0 {
		return cli.ExitPartial
	}
	return code
}

// stageProgress shows each stage's progress on stderr; training's as a
// share of its budget.
func stageProgress(stderr io.Writer) func(string) func(done, total int) {
	return func(name string) func(done, total int) {
		if name != "training" {
			return cli.Progress(stderr, name)
		}
		var last time.Time
		return func(done, total int) {
			if time.Since(last) < time.Second && done < total {
				return
			}
			last = time.Now()
			fmt.Fprintf(stderr, "\rtraining %3d %%", 100*done/max(1, total))
			if done >= total {
				fmt.Fprintln(stderr, "; fitting the whitening, exporting")
			}
		}
	}
}

func printAdapt(w io.Writer, lib string, r *adapt.Result) {
	fmt.Fprintf(w, "\nadapted %s on %d items (%d arrays", r.From, r.Items, r.Arrays)
	if r.Failed > 0 {
		fmt.Fprintf(w, "; %d unreadable, left out", r.Failed)
	}
	fmt.Fprintf(w, "): %d steps in %.0f s on %s (PyTorch %s)\n", r.Steps, r.Seconds, r.Device, r.Torch)
	fmt.Fprintf(w, "new model %s\n  %s\n", r.Model, r.Manifest)
	printFigures(w, r.Before, r.After)
	switch {
	case r.Accepted != nil:
		printSwitched(w, r.Accepted)
	default:
		fmt.Fprintf(w, "the library still uses %s; to switch it to the new model (every item is embedded again):\n", r.From)
		fmt.Fprintf(w, "  m3ret adapt --library %s --use %s\n", lib, r.Name)
	}
}

func printFigures(w io.Writer, b, a devtools.Scores) {
	fmt.Fprintf(w, "figures on %d of the library's items, each queried by a perturbed copy of itself\n  (%s):\n", b.Items, b.Changes)
	fmt.Fprintf(w, "  %-36s %7s %7s\n", "", "before", "after")
	row := func(name string, x, y float64) { fmt.Fprintf(w, "  %-36s %7.3f %7.3f\n", name, x, y) }
	row("recall@1 of the original", b.RecallAt1, a.RecallAt1)
	row("recall@5 of the original", b.RecallAt5, a.RecallAt5)
	if b.LabelN == 0 {
		fmt.Fprintln(w, "  (no labels: give --labels FILE.csv, or set some with m3ret label, for the figures by label)")
		return
	}
	row(fmt.Sprintf("mAP@%d by label, perturbed (%d)", b.K, b.MAPN), b.MAPAtK, a.MAPAtK)
	row(fmt.Sprintf("P@1 by label, leave-one-out (%d)", b.LabelN), b.PrecisionA1, a.PrecisionA1)
	row("P@5 by label", b.PrecisionA5, a.PrecisionA5)
	row(fmt.Sprintf("recall@%d by label", b.K), b.RecallAtK, a.RecallAtK)
	row(fmt.Sprintf("mAP@%d by label", b.K), b.LabelMAPAtK, a.LabelMAPAtK)
}

func printSwitched(w io.Writer, sw *adapt.Switched) {
	fmt.Fprintf(w, "the library now uses %s: re-embedded %d, already embedded %d, failed %d\n", sw.Model, sw.Reembedded, sw.Skipped, len(sw.Failed))
	printFailures(w, sw.Failed)
}
