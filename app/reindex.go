package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library"
)

func cmdReindex(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("reindex", stderr)
	if parse(fs, args) != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: m3ret reindex [--model NAME|PATH] [--json]")
		return ExitUsage
	}
	c.model = or(c.model, assets.DefaultModel) // reindex moves a library to the default
	enc, _, err := loadEncoder(c, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer enc.Close()
	lib, err := library.OpenForReindex(c.library, enc)
	if err != nil {
		return fail(stderr, err)
	}
	defer lib.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := lib.Reindex(ctx, stderrProgress(stderr))
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(stderr, err)
	}
	if c.json {
		writeJSON(stdout, map[string]any{"model": enc.ModelID(), "reindexed": rep.Imported,
			"skipped": rep.Skipped, "failed": rep.Failed})
	} else {
		fmt.Fprintf(stdout, "model %s: re-embedded %d, already embedded %d, failed %d\n", enc.ModelID(), rep.Imported, rep.Skipped, len(rep.Failed))
		for _, f := range rep.Failed {
			fmt.Fprintf(stdout, "  failed: %s: %s\n", f.Path, f.Error)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "m3ret: reindex cancelled; the library keeps its previous model")
		return ExitError
	case len(rep.Failed) > 0:
		return ExitPartial
	}
	return ExitOK
}
