package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library"
)

// The JSON documents of the commands keep the field names scripts rely on.

// importDoc is what `import --json` prints.
type importDoc struct {
	Imported int               `json:"imported"`
	Skipped  int               `json:"skipped"`
	Failed   []library.Failure `json:"failed"`
	Items    []importItem      `json:"items"`
}

// importItem is one imported item.
type importItem struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Modality string `json:"modality"`
	Frames   int    `json:"frames"`
	Path     string `json:"path"`
	// Files lists a series' slices in order (absent for single files).
	Files []string `json:"files,omitempty"`
}

func importCommand() cli.Command {
	return cli.Command{Name: "import", Args: "[--json] PATH...", Help: "import files and folders",
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() > 0 },
		Run:   runImport}
}

func runImport(e *cli.Env) int {
	return e.Session(func(s *cli.Session) int { return importInto(e, s) })
}

func importInto(e *cli.Env, s *cli.Session) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := s.Import(ctx, e.Args, cli.Progress(e.Stderr, "importing"))
	if err != nil && !errors.Is(err, context.Canceled) {
		return cli.Fail(e.Stderr, err)
	}
	if code := e.Output(newImportDoc(rep), func(w io.Writer) { printImport(w, rep) }); code != cli.ExitOK {
		return code
	}
	switch {
	case err != nil:
		fmt.Fprintln(e.Stderr, "m3ret: import cancelled; items stored so far are kept")
		return cli.ExitError
	case len(rep.Failed) > 0:
		return cli.ExitPartial
	}
	return cli.ExitOK
}

func newImportDoc(rep *library.Report) importDoc {
	d := importDoc{rep.Imported, rep.Skipped, rep.Failed, []importItem{}}
	if d.Failed == nil {
		d.Failed = []library.Failure{}
	}
	for _, it := range rep.Items {
		d.Items = append(d.Items, importItem{it.ID, it.Kind, it.Modality, it.Frames, it.Path, it.Files})
	}
	return d
}

func printImport(w io.Writer, rep *library.Report) {
	fmt.Fprintf(w, "imported %d, skipped %d (already in the library), failed %d\n", rep.Imported, rep.Skipped, len(rep.Failed))
	printFailures(w, rep.Failed)
}

func printFailures(w io.Writer, failed []library.Failure) {
	for _, f := range failed {
		fmt.Fprintf(w, "  failed: %s: %s\n", f.Path, f.Error)
	}
}

func repairCommand() cli.Command {
	return cli.Command{Name: "repair", Args: "[--library DIR] [--json]",
		Help: "mend a damaged library: salvage catalog.db, rebuild the indexes, list what was lost",
		Run: func(e *cli.Env) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			rep, err := library.RepairWith(ctx, e.Library, library.OpenOptions{Waiting: cli.Waiting(e.Stderr)})
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			code := e.Output(rep, func(w io.Writer) { printRepair(w, rep) })
			if code == cli.ExitOK && len(rep.Lost) > 0 {
				return cli.ExitPartial
			}
			return code
		}}
}

func printRepair(w io.Writer, rep *library.RepairReport) {
	if rep.Damaged == "" {
		fmt.Fprintf(w, "catalog sound: %d items, %d annotations; the indexes were rebuilt from it\n", rep.Salvaged, rep.Annotations)
		return
	}
	fmt.Fprintf(w, "salvaged %d items and %d annotations, lost %d items and %d labels or notes; the damaged catalog is kept as %s\n",
		rep.Salvaged, rep.Annotations, len(rep.Lost), len(rep.LostAnnotations), rep.Damaged)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if len(rep.Lost) > 0 {
		fmt.Fprintln(w, "  lost items (import their source files again):")
		for _, id := range rep.Lost {
			fmt.Fprintf(w, "    %s\n", id)
		}
	}
	if len(rep.LostAnnotations) > 0 {
		fmt.Fprintln(w, "  lost labels and notes (write them again):")
		for _, a := range rep.LostAnnotations {
			fmt.Fprintf(w, "    %s of %s\n", a.Kind, a.Item)
		}
	}
}

// reindexDoc is what `reindex --json` prints.
type reindexDoc struct {
	Model     string            `json:"model"`
	Reindexed int               `json:"reindexed"`
	Skipped   int               `json:"skipped"`
	Failed    []library.Failure `json:"failed"`
}

func reindexCommand() cli.Command {
	return cli.Command{Name: "reindex", Args: "[--model NAME|PATH] [--json]",
		Help: "re-embed the library with a model, rebuild the indexes", Run: runReindex}
}

func runReindex(e *cli.Env) int {
	e.Model = cli.Or(e.Model, assets.DefaultModel) // reindex moves a library to the default
	if err := rememberModel(e); err != nil {
		return cli.Fail(e.Stderr, fmt.Errorf("model not added: %w", err))
	}
	enc, _, err := cli.LoadEncoder(&e.Common, e.Stderr)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	defer enc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	lib, err := library.OpenForReindexWith(ctx, e.Library, enc, library.OpenOptions{Waiting: cli.Waiting(e.Stderr)})
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	c := controller.New(lib, controller.Options{})
	defer c.Close()
	rep, err := c.Reindex(ctx, cli.Progress(e.Stderr, "re-embedding"))
	if err != nil && !errors.Is(err, context.Canceled) {
		return cli.Fail(e.Stderr, err)
	}
	doc := reindexDoc{enc.ModelID(), rep.Imported, rep.Skipped, rep.Failed}
	code := e.Output(doc, func(w io.Writer) {
		fmt.Fprintf(w, "model %s: re-embedded %d, already embedded %d, failed %d\n", doc.Model, rep.Imported, rep.Skipped, len(rep.Failed))
		printFailures(w, rep.Failed)
	})
	switch {
	case code != cli.ExitOK:
		return code
	case err != nil:
		fmt.Fprintln(e.Stderr, "m3ret: reindex cancelled; the library keeps its previous model")
		return cli.ExitError
	case len(rep.Failed) > 0:
		return cli.ExitPartial
	}
	return cli.ExitOK
}
