//go:build !headless

package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
)

// TestWindowSearchesDepartment: with a department index set, a file
// dropped on the query pane is searched in the department index; the
// results name their PACS; clicking one fetches its series from the PACS
// and shows it beside the query; switching back searches this library.
// An index that cannot be opened leaves the window on this library.
func TestWindowSearchesDepartment(t *testing.T) {
	url, brain := deptFixture(t, "baseline")
	g := newTestGUI(t)
	// As the window does (on the UI goroutine): the test driver runs a job's
	// posts on the job's goroutine, so the poster's lock keeps them apart
	// from this one's widget changes (a fast failure raced SetSelected).
	g.ui.do(func() { g.UseDepartment(strings.Replace(url, "/Department?", "/Nowhere?", 1)) })
	g.Wait()
	if !strings.Contains(g.status.Text, "does not exist") || g.scope.Selected != scopeLocal || g.s.Dept() != nil {
		t.Fatalf("a missing collection: status %q, scope %q", g.status.Text, g.scope.Selected)
	}
	g.ui.do(func() { g.UseDepartment(url) })
	g.Wait()
	if !g.scope.Visible() || g.scope.Selected != scopeDept || g.s.Dept() == nil {
		t.Fatalf("scope %q, status %q", g.scope.Selected, g.status.Text)
	}
	g.HandleDrop(g.QueryPanePosition(), []fyne.URI{storage.NewFileURI(brain[4])})
	g.Wait()
	tiles := g.results.Tiles()
	if len(tiles) != 2 || tiles[0].Caption != "on PACS main" {
		t.Fatalf("department results %+v (status %q)", tiles, g.status.Text)
	}
	for _, tile := range tiles {
		if tile.Thumb == nil {
			t.Fatalf("department result %s has no preview rendered by its PACS", tile.Title)
		}
	}
	g.results.Select(0)
	g.Wait()
	if g.compare.Result.Sample() == nil || g.tabs.Selected().Text != "Compare" {
		t.Fatalf("the result was not fetched and shown: status %q", g.status.Text)
	}
	if _, err := g.s.Item(tiles[0].ID); err != nil {
		t.Fatalf("the fetched result is not cached in the library: %v", err)
	}
	g.scope.SetSelected(scopeLocal)
	g.Wait()
	if g.s.Dept() != nil || len(g.results.Tiles()) != 1 { // the library holds the one fetched series
		t.Fatalf("back on this library: dept %v, %d results", g.s.Dept(), len(g.results.Tiles()))
	}
}
