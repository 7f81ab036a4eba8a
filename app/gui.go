package app

import (
	"fmt"
	"io"
	"log"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/m3ret/viewer/assets"
)

// AppID is the application identifier (also in FyneApp.toml).
const AppID = "io.github.m3ret.viewer"

func cmdGUI(args []string, stderr io.Writer) int {
	fs, c := newFlags("m3ret", stderr)
	query := fs.String("query", "", "query with this file once the window is open")
	if err := parse(fs, args); err != nil {
		return ExitUsage
	}
	s, err := openSession(c)
	if err != nil {
		return fail(stderr, err)
	}
	defer s.Close()
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	g := NewGUI(a, s)
	if fs.NArg() > 0 {
		g.StartImport(fs.Args())
	}
	if *query != "" {
		g.StartQueryFile(*query)
	}
	log.SetFlags(0)
	g.win.ShowAndRun()
	g.CancelImport()
	g.Wait()
	return ExitOK
}

// logf logs without patient data: callers pass ids and counts, never
// metadata values.
func logf(format string, a ...any) { log.Print(fmt.Sprintf(format, a...)) }
