//go:build !headless

package app

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/storage"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/assets"
)

// AppID is the application identifier (also in FyneApp.toml).
const AppID = "io.github.m3ret.viewer"

// startup is what the command line asks the window to do once it is open.
type startup struct {
	imports   []string // dropped on the library
	query     string   // dropped on the query pane
	compare   int      // open result N beside the query (1-based; 0: none)
	measure   bool     // with compare: draw a length and an ellipse on both sides
	note      string   // with compare: write the comparison's key-image note (HTML) here
	open      string   // show this file (a library item, else read) in the Viewer tab
	preset    string   // with open: the window preset key (0-5) to apply
	fps       int      // scroll the opened view through this many slices, report frames/s
	readyFile string   // written when the work above is done; quit when removed
	pacs      string   // search this PACS server in the PACS tab
	pacsPull  int      // with pacs: retrieve study N (1-based); ready once it is under way
	models    bool     // open Settings → Models
	useModel  string   // move the library to this model (re-embed); ready half way
	fpsResult float64
}

// flags declares the window's own flags (the drops and views a script or
// a desktop shortcut asks for at start).
func (st *startup) flags(fs *flag.FlagSet) {
	fs.StringVar(&st.query, "query", "", "query with this file once the window is open")
	fs.IntVar(&st.compare, "compare", 0, "with --query: open result N beside the query")
	fs.BoolVar(&st.measure, "measure", false, "for scripts: with --compare, draw a length and an ellipse on both sides and report them")
	fs.StringVar(&st.note, "export-note", "", "for scripts: with --compare, write the comparison's key-image note (HTML) to this file")
	fs.StringVar(&st.open, "open", "", "show this file in the Viewer tab (the library item holding it, if any)")
	fs.StringVar(&st.preset, "preset", "", "with --open: apply the window preset on this number key (CT: 1 lung, 2 mediastinum, 3 abdomen, 4 bone, 5 brain)")
	fs.IntVar(&st.fps, "fps", 0, "for scripts: with --open, scroll N slices through the window and report frames/s in the ready file")
	fs.StringVar(&st.readyFile, "ready-file", "", "for scripts: write a summary to this file once the work above is done; quit when it is removed")
	fs.StringVar(&st.pacs, "pacs", "", "open the PACS tab and search this server (a name from m3ret pacs list)")
	fs.IntVar(&st.pacsPull, "pacs-pull", 0, "with --pacs: retrieve study N of the results")
	fs.BoolVar(&st.models, "models", false, "open Settings → Models")
	fs.StringVar(&st.useModel, "use-model", "", "re-embed the library with this model (name, NAME@VERSION or id), then switch to it;\n"+
		"for scripts, with --ready-file: held half way until the ready file is removed")
}

// scripted reports a run driven by a script (it waits for the ready file).
func (st startup) scripted() bool { return st.readyFile != "" }

func cmdGUI(args []string, stderr io.Writer) int {
	var c cli.Common
	fs := cli.NewFlags("m3ret", &c, stderr)
	var st startup
	st.flags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return cli.ExitUsage
	}
	st.imports = fs.Args()
	ui := &poster{}
	a := newApp()
	o := openForWindow(&c, stderr, ui)
	select {
	case r := <-o.done:
		return runWindow(a, r, &c, st, stderr, ui)
	case <-o.waiting:
		if st.scripted() {
			return runWindow(a, <-o.done, &c, st, stderr, ui)
		}
		waitForLibrary(a, o, &c, st, stderr, ui) // never returns: the process ends with the window
		return cli.ExitOK
	}
}

// runWindow shows the window on an opened session (or the reason it could
// not open) and runs the app until the window closes.
func runWindow(a fyne.App, r opened, c *cli.Common, st startup, stderr io.Writer, ui *poster) int {
	if r.err != nil {
		code := cli.Fail(stderr, r.err)
		if !st.scripted() { // a desktop user sees no terminal: say it in a window
			startupErrorWindow(a, startupMessage(c, r.err)).ShowAndRun()
		}
		return code
	}
	g := startWindow(a, r.s, c, st, stderr, ui)
	a.Lifecycle().SetOnStarted(func() { go g.startup(st) })
	g.win.ShowAndRun()
	g.quit(cli.ExitOK) // the loop ended another way
	return cli.ExitOK
}

// startWindow builds the window over the session. Closing it closes the
// session (its jobs cancelled, the index saved) and ends the process,
// rather than going through Fyne's own shutdown: in Fyne 2.7.1 that can
// panic in a race ("send on closed channel" from its lifecycle queue), and
// the preferences it saves are not ours.
func startWindow(a fyne.App, s *cli.Session, c *cli.Common, st startup, stderr io.Writer, ui *poster) *GUI {
	log.SetFlags(0)
	g := NewGUI(a, s, ui)
	g.UseDepartment(c.Index)
	var once sync.Once
	g.quit = func(code int) {
		once.Do(func() {
			if err := s.Close(); err != nil {
				fmt.Fprintf(stderr, "m3ret: close library: %v\n", err)
				code = cli.ExitError
			}
			os.Exit(code)
		})
	}
	g.stderr = stderr
	g.win.SetCloseIntercept(func() { go g.quit(cli.ExitOK) })
	return g
}

// startup runs the command line's work in the window, then, for a
// script, quits.
func (g *GUI) startup(st startup) {
	code := cli.ExitOK
	if err := g.runStartup(st); err != nil {
		fmt.Fprintf(g.stderr, "m3ret: %v\n", err)
		code = cli.ExitError
	}
	if st.scripted() { // the script is done with the window
		g.quit(code)
	}
}

func newApp() fyne.App {
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	return a
}

// runStartup performs the command line's drops through the window's own
// drop handler, as if the user had dropped the files, one after the other.
func (g *GUI) runStartup(st startup) error {
	time.Sleep(300 * time.Millisecond) // let the first layout settle
	g.Wait()
	if len(st.imports) > 0 {
		uris := make([]fyne.URI, len(st.imports))
		for i, p := range st.imports {
			uris[i] = storage.NewFileURI(p)
		}
		fyne.DoAndWait(func() { g.HandleDrop(g.LibraryPosition(), uris) })
		g.Wait()
	}
	if st.query != "" {
		fyne.DoAndWait(func() { g.HandleDrop(g.QueryPanePosition(), []fyne.URI{storage.NewFileURI(st.query)}) })
		g.Wait()
	}
	if st.compare > 0 {
		fyne.DoAndWait(func() {
			if st.compare <= len(g.results.Tiles()) {
				g.results.Select(st.compare - 1)
			}
		})
		g.Wait()
	}
	if st.measure {
		g.startupMeasure()
	}
	if err := g.startupExportNote(st.note); err != nil {
		return err
	}
	if err := g.startupView(&st); err != nil {
		return err
	}
	if err := g.startupPACS(st); err != nil {
		return err
	}
	if err := g.startupModels(st); err != nil {
		return err
	}
	if st.readyFile == "" {
		return nil
	}
	time.Sleep(500 * time.Millisecond) // let the last refresh reach the screen
	var summary string
	fyne.DoAndWait(func() { summary = g.summary() })
	if st.fps > 0 {
		summary += fmt.Sprintf("fps=%.1f\n", st.fpsResult)
	}
	if st.measure {
		fyne.DoAndWait(func() { summary += g.measureSummary() })
	}
	if err := os.WriteFile(st.readyFile, []byte(summary), 0o600); err != nil {
		return err
	}
	for { // the script takes its screenshot, then removes the file
		time.Sleep(100 * time.Millisecond)
		if _, err := os.Stat(st.readyFile); err != nil {
			return g.afterScreenshot()
		}
	}
}

// summary describes what the window shows, one fact a line.
func (g *GUI) summary() string {
	q, r := g.compare.Titles()
	differ := 0
	for _, row := range g.compare.Metadata() {
		if row.Differs {
			differ++
		}
	}
	thumbs := 0
	for _, t := range g.results.Tiles() {
		if t.Thumb != nil {
			thumbs++
		}
	}
	return fmt.Sprintf("library=%d\nresults=%d (%d with thumbnails)\nscope=%s\nstatus=%s\nquery=%s\ncompare=%s\nmetadata=%d rows, %d differ\ntab=%s\nviewer=%s\npacs=%d studies, %d previews\n",
		len(g.libGrid.Tiles()), len(g.results.Tiles()), thumbs, g.scope.Selected, g.status.Text, q, r,
		len(g.compare.Metadata()), differ, tabTitles[g.shownTab()], g.viewer.summary(), len(g.pacs.studies), len(g.pacs.thumbs)) +
		g.modelsSummary()
}

// logf logs without patient data: callers pass ids and counts, never
// metadata values.
func logf(format string, a ...any) { log.Printf(format, a...) }
