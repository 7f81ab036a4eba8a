//go:build !headless

package app

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

// GUI is the main window: the library grid on the left; the query pane,
// the results and the comparison on the right; a status bar with the
// progress of background work.
type GUI struct {
	s   *session
	win fyne.Window

	libGrid   *viewer.ThumbGrid
	libTitle  *widget.Label
	queryPane *fyne.Container
	queryView *viewer.ImageView
	queryHint *widget.Label
	results   *viewer.ThumbGrid
	compare   *viewer.CompareView
	viewer    *itemViewer
	tabs      *container.AppTabs
	right     *container.Split
	filter    *widget.Entry
	status    *widget.Label
	progress  *widget.ProgressBar
	cancelBtn *widget.Button

	selected  string // library item chosen in the grid
	details   *widget.Label
	sortBy    *widget.Select
	comparing string // result shown in the comparison

	uiMu      sync.Mutex // serialises do (see there)
	mu        sync.Mutex
	cancel    context.CancelFunc // of the running import
	query     *library.Query     // last query
	queryName string
	queryPath string // file of the last file query
	libFilter string // the search box, as last submitted
	libOrder  string // the library's sort order
	jobs      sync.WaitGroup
}

// NewGUI builds the window for an open session.
func NewGUI(a fyne.App, s *session) *GUI {
	g := &GUI{s: s, win: a.NewWindow("M3Ret Viewer")}
	g.build()
	g.win.SetOnDropped(g.HandleDrop)
	g.win.Resize(fyne.NewSize(1280, 800))
	g.refreshLibrary("")
	return g
}

func (g *GUI) build() {
	g.libGrid, g.results = viewer.NewThumbGrid(), viewer.NewThumbGrid()
	g.libGrid.OnSelected = g.selectItem
	g.results.OnSelected = g.ShowResult
	g.libTitle = widget.NewLabel("Library")
	g.libTitle.TextStyle.Bold = true
	g.queryView = viewer.NewImageView()
	g.queryView.OnRegion = func(crop *media.Sample) { g.StartQueryRegion(crop, g.queryName) }
	g.queryHint = widget.NewLabel("Drop a study here to find similar cases")
	g.queryHint.Alignment = fyne.TextAlignCenter
	g.queryPane = container.NewBorder(g.queryHint, nil, nil, nil, g.queryView)
	g.compare = viewer.NewCompareView()
	g.compare.OnStep = g.stepResult
	g.compare.OnRefine = g.refineWithShown
	g.viewer = newItemViewer(g)
	g.tabs = container.NewAppTabs(container.NewTabItem("Results", g.results), container.NewTabItem("Compare", g.compare),
		container.NewTabItem("Viewer", g.viewer.content))
	g.tabs.OnSelected = g.tabChanged
	g.filter = widget.NewEntry()
	g.filter.SetPlaceHolder("Search, e.g. modality:MR +body_part:BRAIN (Enter)")
	g.filter.OnSubmitted = g.submitFilter
	toolbar := container.NewBorder(nil, nil, container.NewHBox(
		widget.NewButtonWithIcon("Import…", theme.FolderOpenIcon(), g.chooseImport),
		widget.NewButtonWithIcon("Find similar", theme.SearchIcon(), g.findSimilar),
	), widget.NewButtonWithIcon("", theme.SettingsIcon(), g.showSettings), g.filter)
	g.status = widget.NewLabel("")
	g.progress = widget.NewProgressBar()
	g.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), g.CancelImport)
	g.progress.Hide()
	g.cancelBtn.Hide()
	statusBar := container.NewBorder(nil, nil, nil, container.NewHBox(g.progress, g.cancelBtn), g.status)
	g.right = container.NewVSplit(g.queryPane, g.tabs)
	g.right.Offset = 0.4
	split := container.NewHSplit(g.buildBrowser(), g.right)
	split.Offset = 0.36
	g.win.SetContent(container.NewBorder(toolbar, statusBar, nil, nil, split))
	g.win.Canvas().SetOnTypedKey(g.typedKey)
}

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
func (g *GUI) QueryPanePosition() fyne.Position {
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(g.queryPane)
	s := g.queryPane.Size()
	return at.Add(fyne.NewPos(s.Width/2, s.Height/2))
}

// LibraryPosition is a point inside the library grid, in window coordinates.
func (g *GUI) LibraryPosition() fyne.Position {
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(g.libGrid)
	s := g.libGrid.Size()
	return at.Add(fyne.NewPos(s.Width/2, s.Height/2))
}

// do runs fn on the UI goroutine. Calls are serialised so that drivers
// which run fn at once on the caller's goroutine (the test driver) never
// run two at a time; fn must not call do itself.
func (g *GUI) do(fn func()) {
	g.uiMu.Lock()
	defer g.uiMu.Unlock()
	fyne.Do(fn)
}

// Wait blocks until background jobs have finished (for tests and exit).
func (g *GUI) Wait() { g.jobs.Wait() }

func (g *GUI) setStatus(text string) { g.do(func() { g.status.SetText(text) }) }

// refreshLibrary reloads the library grid in the background, then shows
// status (or, when empty, the library and runtime summary).
func (g *GUI) refreshLibrary(status string) {
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		items, total, err := g.browseItems()
		if err != nil {
			g.setStatus("Could not read the library: " + plain(err))
			logf("read library: %v", err)
			return
		}
		tiles := make([]viewer.Tile, len(items))
		for i, it := range items {
			tiles[i] = g.tileFor(it, fmt.Sprintf("%s %s", it.Modality, it.Kind))
			tiles[i].Badges = []string{it.Modality, it.Kind}
		}
		st := status
		if st == "" {
			st = g.statusText(total)
		}
		title := fmt.Sprintf("Library — %d items", total)
		if len(items) != total {
			title = fmt.Sprintf("Library — %d of %d items", len(items), total)
		}
		g.do(func() {
			g.libGrid.SetTiles(tiles)
			g.libTitle.SetText(title)
			g.status.SetText(st)
			g.showDetails()
		})
	}()
}

func (g *GUI) statusText(n int) string {
	return fmt.Sprintf("%d items · model %s · ONNX Runtime %s on %s", n, g.s.enc.Manifest().Name,
		g.s.rt.Version, strings.ToUpper(g.s.enc.Provider()))
}

func (g *GUI) tileFor(it library.Item, title string) viewer.Tile {
	t := viewer.Tile{ID: it.ID, Title: title, Caption: filepath.Base(it.Path)}
	if b, err := g.s.lib.Thumbnail(it.ID); err == nil {
		if img, err := png.Decode(bytes.NewReader(b)); err == nil {
			t.Thumb = img
		}
	}
	return t
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
	g.mu.Lock()
	if g.cancel != nil {
		g.mu.Unlock()
		g.setStatus("An import is already running; wait for it or cancel it.")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.mu.Unlock()
	g.do(func() {
		g.progress.SetValue(0)
		g.progress.Show()
		g.cancelBtn.Show()
		g.status.SetText("Importing…")
	})
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		rep, err := g.s.lib.Import(ctx, paths, throttle(g.do, func(done, total int) {
			g.progress.SetValue(float64(done) / float64(max(total, 1)))
			g.status.SetText(fmt.Sprintf("Importing %d of %d…", done, total))
		}))
		cancel()
		g.mu.Lock()
		g.cancel = nil
		g.mu.Unlock()
		g.finishImport(rep, err)
	}()
}

func (g *GUI) finishImport(rep *library.Report, err error) {
	msg := fmt.Sprintf("Imported %d, skipped %d already in the library", rep.Imported, rep.Skipped)
	if len(rep.Failed) > 0 {
		msg += fmt.Sprintf(", %d could not be read", len(rep.Failed))
	}
	if err == context.Canceled {
		msg = "Import cancelled. " + msg
	} else if err != nil {
		msg = "Import stopped: " + plain(err) + ". " + msg
		logf("import: %v", err)
	}
	g.do(func() {
		g.progress.Hide()
		g.cancelBtn.Hide()
		if len(rep.Failed) > 0 {
			g.showFailures(rep.Failed)
		}
	})
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

// CancelImport stops the running import; what it stored stays.
func (g *GUI) CancelImport() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		g.cancel()
	}
}

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
