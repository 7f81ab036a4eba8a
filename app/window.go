//go:build !headless

package app

import (
	"errors"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

// GUI is the main window: the library grid on the left; the query pane,
// the results and the comparison on the right; a status bar with the
// progress of background work. It is a set of views over the session's
// controller, which holds the state (current search, selection, filter,
// jobs). Every field is the UI goroutine's: jobs hand their results back
// through the controller's Post, which is do.
type GUI struct {
	s   *cli.Session
	ui  *poster
	win fyne.Window
	// quit closes the session and ends the process (set by startWindow);
	// stderr is where the command line's messages go.
	quit   func(code int)
	stderr io.Writer

	libGrid   *viewer.ThumbGrid
	libTitle  *widget.Label
	queryPane *fyne.Container
	queryView *viewer.ImageView
	queryHint *widget.Label
	results   *viewer.ThumbGrid
	vote      *votePanel // under the results
	compare   *viewer.CompareView
	notes     *notesPanel // under the comparison
	viewer    *itemViewer
	tabs      *container.AppTabs
	right     *container.Split
	filter    *widget.Entry
	status    *widget.Label
	progress  *widget.ProgressBar
	cancelBtn *widget.Button
	details   *widget.Label
	sortBy    *widget.Select
	pacs      *pacsView
	models    *modelsView    // Settings → Models, once opened
	scope     *widget.Select // search this library or the department index
	deptURL   string         // the department index, "" for none
	// cancelKind is the kind of job the status bar's Cancel stops.
	cancelKind controller.Kind
}

// tab is one of the right-hand tabs, in their order.
type tab int

const (
	tabResults tab = iota
	tabCompare
	tabViewer
	tabPACS
)

var tabTitles = [...]string{tabResults: "Results", tabCompare: "Compare", tabViewer: "Viewer", tabPACS: "PACS"}

// poster runs functions on the UI goroutine, one at a time: drivers that
// run fn at once on the caller's goroutine (the test driver) then never
// run two together. fn must not call do itself.
type poster struct{ mu sync.Mutex }

func (p *poster) do(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fyne.Do(fn)
}

// NewGUI builds the window for a session opened with ui.do as its Post.
func NewGUI(a fyne.App, s *cli.Session, ui *poster) *GUI {
	g := &GUI{s: s, ui: ui, win: a.NewWindow("M3Ret Viewer")}
	g.build()
	g.win.SetOnDropped(g.HandleDrop)
	g.win.Resize(fyne.NewSize(1280, 800))
	g.refreshLibrary("")
	// The window reads the library shared; an import or a removal takes it
	// for itself, waiting while a command reads it.
	s.Library().SetWaiting(func() { g.do(func() { g.status.SetText(waitingStatus) }) })
	return g
}

// waitingStatus is shown while a change of the window's waits for the
// library.
const waitingStatus = "The library is in use by another m3ret command; waiting for it (Cancel to stop)…"

func (g *GUI) build() {
	g.libGrid, g.results = viewer.NewThumbGrid(), viewer.NewThumbGrid()
	g.libGrid.OnSelected = g.selectItem
	g.results.OnSelected = g.ShowResult
	g.libTitle = widget.NewLabel("Library")
	g.libTitle.TextStyle.Bold = true
	g.queryView = viewer.NewImageView()
	g.queryView.OnRegion = func(crop *media.Sample) { g.StartQueryRegion(crop, g.queryName()) }
	g.queryHint = widget.NewLabel("Drop a study here to find similar cases")
	g.queryHint.Alignment = fyne.TextAlignCenter
	g.queryPane = container.NewBorder(g.queryHint, nil, nil, nil, g.queryView)
	g.compare = viewer.NewCompareView()
	g.compare.OnStep = g.stepResult
	g.compare.OnRefine = g.refineWithShown
	g.compare.OnExport = g.showExport // before anything sizes the view (its renderer reads it)
	g.viewer = newItemViewer(g)
	g.notes = newNotesPanel(g)
	g.pacs = newPACSView(g)
	g.vote = newVotePanel()
	g.tabs = container.NewAppTabs(container.NewTabItem(tabTitles[tabResults], container.NewBorder(nil, g.vote.content, nil, nil, g.results)),
		container.NewTabItem(tabTitles[tabCompare], container.NewBorder(nil, g.notes.content, nil, nil, g.compare)),
		container.NewTabItem(tabTitles[tabViewer], g.viewer.content),
		container.NewTabItem(tabTitles[tabPACS], g.pacs.content))
	g.tabs.OnSelected = func(*container.TabItem) { g.tabChanged(g.shownTab()) }
	g.right = container.NewVSplit(g.queryPane, g.tabs)
	g.right.Offset = 0.4
	split := container.NewHSplit(g.buildBrowser(), g.right)
	split.Offset = 0.36
	g.win.SetContent(container.NewBorder(g.buildToolbar(), g.buildStatusBar(), nil, nil, split))
	g.win.Canvas().SetOnTypedKey(g.typedKey)
	g.notes.shortcuts(g.win.Canvas())
	g.exportShortcut()
}

func (g *GUI) buildToolbar() fyne.CanvasObject {
	g.filter = widget.NewEntry()
	g.filter.SetPlaceHolder("Search, e.g. modality:MR +body_part:BRAIN (Enter)")
	g.filter.OnSubmitted = g.submitFilter
	return container.NewBorder(nil, nil, container.NewHBox(
		widget.NewButtonWithIcon("Import…", theme.FolderOpenIcon(), g.chooseImport),
		widget.NewButtonWithIcon("Find similar", theme.SearchIcon(), g.findSimilar),
		g.buildScope(),
	), g.settingsButton(), g.filter)
}

func (g *GUI) buildStatusBar() fyne.CanvasObject {
	g.status = widget.NewLabel("")
	g.progress = widget.NewProgressBar()
	g.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), g.CancelJob)
	g.progress.Hide()
	g.cancelBtn.Hide()
	return container.NewBorder(nil, nil, nil, container.NewHBox(g.progress, g.cancelBtn), g.status)
}

func (g *GUI) showTab(t tab) { g.tabs.SelectIndex(int(t)) }
func (g *GUI) shownTab() tab { return tab(g.tabs.SelectedIndex()) }

// HandleDrop is the window's drop handler: files dropped on the query pane
// are searched for (the first one), anything dropped elsewhere is imported.
func (g *GUI) HandleDrop(pos fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) == 0 {
		return
	}
	if g.overQueryPane(pos) {
		g.StartQueryFile(paths[0])
		return
	}
	g.StartImport(paths)
}

func (g *GUI) overQueryPane(pos fyne.Position) bool {
	d := fyne.CurrentApp().Driver()
	at := d.AbsolutePositionForObject(g.queryPane)
	size := g.queryPane.Size()
	return pos.X >= at.X && pos.Y >= at.Y && pos.X < at.X+size.Width && pos.Y < at.Y+size.Height
}

// QueryPanePosition is a point inside the query pane, in window coordinates.
func (g *GUI) QueryPanePosition() fyne.Position { return centre(g.queryPane) }

// LibraryPosition is a point inside the library grid, in window coordinates.
func (g *GUI) LibraryPosition() fyne.Position { return centre(g.libGrid) }

func centre(o fyne.CanvasObject) fyne.Position {
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	s := o.Size()
	return at.Add(fyne.NewPos(s.Width/2, s.Height/2))
}

// do runs fn on the UI goroutine (see poster).
func (g *GUI) do(fn func()) { g.ui.do(fn) }

// Wait blocks until background jobs have finished (for tests and scripts).
func (g *GUI) Wait() { g.s.Wait() }

// started reports a job that could not start (on the UI goroutine).
func (g *GUI) started(what string, err error) {
	switch {
	case err == nil, errors.Is(err, controller.ErrClosed):
	case errors.Is(err, controller.ErrBusy) && g.s.Running(controller.Reindex):
		g.status.SetText("The library is being re-embedded with another model (Settings → Models); wait for it or cancel it.")
	case errors.Is(err, controller.ErrBusy):
		g.status.SetText(fmt.Sprintf("%s is already running; wait for it or cancel it.", what))
	default:
		g.status.SetText(what + " could not start: " + plain(err))
		logf("start %s: %v", what, err)
	}
}

// refreshLibrary reloads the library grid in the background, then shows
// status (or, when empty, the library and runtime summary).
func (g *GUI) refreshLibrary(status string) {
	g.started("Reading the library", g.s.StartRefresh(func(l *controller.Listing, err error) {
		if err != nil {
			g.status.SetText("Could not read the library: " + plain(err))
			logf("read library: %v", err)
			return
		}
		tiles := make([]viewer.Tile, len(l.Items))
		for i, it := range l.Items {
			tiles[i] = tileFor(it, fmt.Sprintf("%s %s", it.Modality, it.Kind), l.Thumbs)
		}
		title := fmt.Sprintf("Library — %d items", l.Total)
		if len(l.Items) != l.Total {
			title = fmt.Sprintf("Library — %d of %d items", len(l.Items), l.Total)
		}
		g.libGrid.SetTiles(tiles)
		g.libTitle.SetText(title)
		g.status.SetText(cli.Or(status, g.s.Status(l.Total)))
		g.showDetails()
	}))
}

// tileFor is an item's tile, with its thumbnail when there is one.
func tileFor(it library.Item, title string, thumbs map[string]image.Image) viewer.Tile {
	return viewer.Tile{ID: it.ID, Title: title, Caption: caption(it), Thumb: thumbs[it.ID],
		Badges: []string{cli.Text(it.Modality), cli.Text(it.Kind)}}
}

// caption names an item under its thumbnail: its file, or for a department
// result not in this library, the PACS that holds it.
func caption(it library.Item) string {
	if library.Remote(it) {
		return "on PACS " + cli.Text(it.Source.Server)
	}
	return cli.Text(filepath.Base(it.Path))
}

func (g *GUI) chooseImport() {
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			g.StartImport([]string{u.Path()})
		}
	}, g.win)
}

// StartImport imports paths in the background, with a progress bar and
// Cancel; at the end one summary lists the files that failed.
func (g *GUI) StartImport(paths []string) {
	if g.s.Running(controller.Import) {
		g.started("An import", controller.ErrBusy)
		return
	}
	g.showProgress("Importing…", controller.Import)
	progress := throttle(g.do, func(done, total int) {
		g.progress.SetValue(float64(done) / float64(max(total, 1)))
		if done == 0 { // the walk reports the files found so far as (0, found)
			g.status.SetText(fmt.Sprintf("Importing: %d files found…", total))
			return
		}
		g.status.SetText(fmt.Sprintf("Importing %d of %d…", done, total))
	})
	if err := g.s.StartImport(paths, progress, g.finishImport); err != nil {
		g.hideProgress()
		g.started("An import", err)
	}
}

// finishImport shows an import's summary (on the UI goroutine).
func (g *GUI) finishImport(rep *library.Report, err error) {
	msg := fmt.Sprintf("Imported %d, skipped %d already in the library", rep.Imported, rep.Skipped)
	if len(rep.Failed) > 0 {
		msg += fmt.Sprintf(", %d could not be read", len(rep.Failed))
	}
	if controller.IsCancel(err) {
		msg = "Import cancelled. " + msg
	} else if err != nil {
		msg = "Import stopped: " + plain(err) + ". " + msg
		logf("import: %v", err)
	}
	g.hideProgress()
	if len(rep.Failed) > 0 {
		g.showFailures(rep.Failed)
	}
	g.refreshLibrary(msg)
}

// showFailures shows one dialog listing every file that failed.
func (g *GUI) showFailures(failed []library.Failure) {
	var b strings.Builder
	for _, f := range failed {
		fmt.Fprintf(&b, "%s\n    %s\n", filepath.Base(f.Path), f.Error)
	}
	text := widget.NewLabel(b.String())
	text.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(text)
	scroll.SetMinSize(fyne.NewSize(560, 260))
	dialog.ShowCustom(fmt.Sprintf("%d files could not be imported", len(failed)), "Close", scroll, g.win)
}

// showProgress shows the progress bar and a Cancel for a job of kind k.
func (g *GUI) showProgress(status string, k controller.Kind) {
	g.cancelKind = k
	g.progress.SetValue(0)
	g.progress.Show()
	g.cancelBtn.Show()
	g.status.SetText(status)
}

func (g *GUI) hideProgress() {
	g.progress.Hide()
	g.cancelBtn.Hide()
}

// CancelJob stops the job the progress bar shows (an import or a
// retrieve); what it stored stays.
func (g *GUI) CancelJob() { g.s.Cancel(g.cancelKind) }

// plain turns an error into a short message for the user.
func plain(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i > 0 && len(s) > 120 {
		s = s[:i]
	}
	return s
}

// throttle adapts an import progress callback to the UI: calls reach fn
// through do (onto the UI goroutine) at most ~60 times a second, and the
// last one always does.
func throttle(do func(func()), fn func(done, total int)) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if done != total && time.Since(last) < 16*time.Millisecond {
			return
		}
		last = time.Now()
		do(func() { fn(done, total) })
	}
}
