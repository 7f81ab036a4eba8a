//go:build !headless

package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
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

// TestDeptResultsShownAsData: in the window, a department result's strings
// show on one line, escaped; a result whose PACS this workstation lacks
// says so (not that the case is on another workstation).
func TestDeptResultsShownAsData(t *testing.T) {
	planted := library.Item{ID: "d1", Kind: "volume\n", Modality: "CT\x1b[2J",
		Source: &library.Source{Server: "main\nFAKE", StudyUID: "1.2", SeriesUID: "1.2.3"}}
	tile := tileFor(planted, "#1", nil)
	for _, s := range append([]string{tile.Caption}, tile.Badges...) {
		if strings.ContainsAny(s, "\n\x1b") {
			t.Errorf("tile shows %q", s)
		}
	}
	unknown := fmt.Errorf("%q: %w", "x", cli.ErrNoServer)
	for _, tc := range []struct {
		name string
		it   library.Item
		err  error
		want string
	}{
		{name: "PACS not configured", it: planted,
			err:  fmt.Errorf("%w: PACS %q: %w", library.ErrNotInPACS, planted.Source.Server, unknown),
			want: `PACS "main\nFAKE" is not configured on this workstation; add it with m3ret pacs add.`},
		{name: "on another workstation", it: library.Item{ID: "f1", Path: "workstation ws2"},
			err:  fmt.Errorf("%w: workstation ws2", library.ErrNotInPACS),
			want: "it is on another workstation, not in a PACS this workstation knows (see the PACS tab)."},
		{name: "PACS did not send it", it: planted, err: errors.New("status 500\nFAKE"),
			want: `PACS main\nFAKE did not send it (status 500\nFAKE).`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := openProblem(tc.it, tc.err); got != tc.want {
				t.Fatalf("openProblem = %q, want %q", got, tc.want)
			}
		})
	}
}
