//go:build !headless

package app

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
)

// newTestGUI opens a session on a temporary library with the embedded
// baseline model and builds the window on Fyne's test driver.
func newTestGUI(t *testing.T) *GUI {
	t.Helper()
	requireORT(t)
	a := test.NewTempApp(t)
	c := &cli.Common{Library: filepath.Join(t.TempDir(), "lib"), Model: "baseline", Provider: "cpu"}
	ui := &poster{}
	s, err := cli.Open(c, io.Discard, controller.Options{Post: ui.do})
	if err != nil {
		t.Fatal(err)
	}
	g := NewGUI(a, s, ui)
	t.Cleanup(func() {
		g.Wait()
		s.Close()
	})
	g.Wait() // widgets belong to this goroutine again only after background jobs end
	return g
}

func TestDropImportsThenQueries(t *testing.T) {
	g := newTestGUI(t)
	dir := writeImages(t, 5)
	if err := os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Dropping a folder anywhere but the query pane imports it.
	g.HandleDrop(g.LibraryPosition(), []fyne.URI{storage.NewFileURI(dir)})
	g.Wait()
	if n := len(g.libGrid.Tiles()); n != 5 {
		t.Fatalf("library grid shows %d tiles, want 5", n)
	}
	if !strings.Contains(g.status.Text, "Imported 5") || !strings.Contains(g.status.Text, "1 could not be read") {
		t.Fatalf("status %q", g.status.Text)
	}
	if g.progress.Visible() || g.cancelBtn.Visible() {
		t.Fatal("progress bar still shown after the import")
	}

	// Dropping a file on the query pane searches with it.
	query := filepath.Join(dir, "c.png")
	g.HandleDrop(g.QueryPanePosition(), []fyne.URI{storage.NewFileURI(query)})
	g.Wait()
	tiles := g.results.Tiles()
	if len(tiles) != 5 || tiles[0].Caption != "c.png" || !strings.HasPrefix(tiles[0].Title, "#1  1.000") {
		t.Fatalf("results %+v", tiles)
	}
	if len(g.libGrid.Tiles()) != 5 {
		t.Fatal("a query drop imported the file")
	}
}

func TestResultsViewOpensComparison(t *testing.T) {
	g := newTestGUI(t)
	dir := writeImages(t, 4)
	g.StartImport([]string{dir})
	g.Wait()
	g.StartQueryFile(filepath.Join(dir, "b.png"))
	g.Wait()
	tiles := g.results.Tiles()
	if len(tiles) != 4 {
		t.Fatalf("%d results", len(tiles))
	}
	g.results.Select(1) // the user clicks the second result
	g.Wait()
	q, r := g.compare.Titles()
	if !strings.Contains(q, "b.png") || !strings.Contains(r, tiles[1].Caption) || !strings.HasPrefix(r, "Similarity 0.") {
		t.Fatalf("compare titles %q / %q", q, r)
	}
	if g.tabs.Selected().Text != "Compare" {
		t.Fatalf("tab %q", g.tabs.Selected().Text)
	}
	if g.compare.Query.Sample() == nil || g.compare.Result.Sample() == nil {
		t.Fatal("comparison shows no images")
	}
}

func TestFindSimilarNeedsSelection(t *testing.T) {
	g := newTestGUI(t)
	g.findSimilar()
	if !strings.Contains(g.status.Text, "Choose an item") {
		t.Fatalf("status %q", g.status.Text)
	}
	dir := writeImages(t, 3)
	g.StartImport([]string{dir})
	g.Wait()
	g.libGrid.Select(0)
	g.findSimilar()
	g.Wait()
	if n := len(g.results.Tiles()); n != 2 { // the item itself is left out
		t.Fatalf("%d results", n)
	}
}

func TestSettingsDialogSaves(t *testing.T) {
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "settings.json"))
	g := newTestGUI(t)
	g.showSettings()
	overlay := g.win.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no settings dialog")
	}
	var sel *widget.Select
	var save *widget.Button
	walk(overlay, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Select:
			sel = w
		case *widget.Button:
			if w.Text == "Save" {
				save = w
			}
		}
	})
	if sel == nil || save == nil {
		t.Fatal("dialog has no provider choice or Save button")
	}
	sel.SetSelected("cpu")
	test.Tap(save)
	st, err := cli.LoadSettings()
	if err != nil || st.Provider != "cpu" {
		t.Fatalf("saved %+v %v", st, err)
	}
}

// walk visits every object under o.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			walk(child, fn)
		}
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			walk(child, fn)
		}
	}
}
