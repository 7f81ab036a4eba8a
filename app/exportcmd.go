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
	"github.com/m3ret/viewer/library"
)

// exportOptions are the flags of `m3ret export`.
type exportOptions struct {
	anonymise, allowBurnedIn, shiftDates bool
	out                                  string
}

// exportDoc is what `export --json` prints.
type exportDoc struct {
	Out string `json:"out"`
	library.ExportReport
}

func exportCommand() cli.Command {
	var o exportOptions
	return cli.Command{Name: "export",
		Args: "--anonymise [--out DIR] [--allow-burned-in] [--shift-dates] [--json] ITEM_ID...",
		Help: "write anonymised DICOM copies of items (DICOM PS3.15 basic profile)",
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&o.anonymise, "anonymise", false, "remove the patient's identity (required: the only export there is)")
			fs.StringVar(&o.out, "out", "anonymised", "folder to write into (one subfolder per series)")
			fs.BoolVar(&o.allowBurnedIn, "allow-burned-in", false,
				"export images that may show burned-in text (ultrasound, secondary capture) with a warning")
			fs.BoolVar(&o.shiftDates, "shift-dates", false, "keep dates, all shifted back by one random offset, instead of removing them")
		},
		Valid: func(fs *flag.FlagSet) bool { return o.anonymise && fs.NArg() > 0 },
		Run: func(e *cli.Env) int {
			return e.ReadSession(func(s *cli.Session) int { return runExport(e, s, &o) })
		}}
}

func runExport(e *cli.Env, s *cli.Session, o *exportOptions) int {
	r := controller.ExportRequest{Items: e.Args, Dir: o.out,
		Options: library.ExportOptions{AllowBurnedIn: o.allowBurnedIn, ShiftDates: o.shiftDates}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := s.ExportDICOM(ctx, r, cli.Progress(e.Stderr, "exporting"))
	if err != nil {
		code := cli.Fail(e.Stderr, err)
		if errors.Is(err, library.ErrBurnedIn) {
			fmt.Fprintln(e.Stderr, "m3ret: check the images, then export with --allow-burned-in to share them anyway")
		}
		return code
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(e.Stderr, "m3ret: warning: %s\n", w)
	}
	return e.Output(exportDoc{o.out, rep}, func(w io.Writer) {
		fmt.Fprintf(w, "exported %s (%s, %s) to %s\n", counted(len(rep.Files), "file", "files"),
			counted(rep.Studies, "study", "studies"), counted(rep.Series, "series", "series"), o.out)
	})
}

// counted is n with the noun that agrees with it: "1 file", "2 files".
func counted(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
