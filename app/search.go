//go:build !headless

package app

import (
	"errors"
	"fmt"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

// StartQueryFile searches the library for the cases nearest to a file, in
// the background.
func (g *GUI) StartQueryFile(path string) {
	g.startQuery(controller.QueryRequest{Path: path})
}

// findSimilar searches with the library item chosen in the grid.
func (g *GUI) findSimilar() {
	id := g.s.Selected()
	if id == "" {
		g.status.SetText("Choose an item in the library first, or drop a file on the query pane.")
		return
	}
	g.StartQueryItem(id)
}

// StartQueryItem searches the library for the cases nearest to an item.
func (g *GUI) StartQueryItem(id string) {
	g.startQuery(controller.QueryRequest{ItemID: id, WithSample: true})
}

// StartQueryRegion searches with a region cut from a slice (a 2D crop).
func (g *GUI) StartQueryRegion(crop *media.Sample, from string) {
	g.startQuery(controller.QueryRequest{Region: crop, From: from})
}

// refineWithShown adds the result shown in the comparison to the query as
// a second example and searches again.
func (g *GUI) refineWithShown() {
	id := g.s.Comparing()
	if g.s.Current() == nil || id == "" {
		return
	}
	g.startQuery(controller.QueryRequest{Refine: id})
}

// startQuery runs a search in the background with the search box's query;
// a newer search supersedes it.
func (g *GUI) startQuery(r controller.QueryRequest) {
	r.Filter = g.filter.Text
	g.status.SetText("Searching…")
	g.started("A search", g.s.StartQuery(r, g.showQuery))
}

// requery repeats the last search with the filter just submitted.
func (g *GUI) requery() {
	g.started("A search", g.s.Requery(g.showQuery))
}

// queryName is the name of the search shown.
func (g *GUI) queryName() string {
	if cur := g.s.Current(); cur != nil {
		return cur.Name
	}
	return ""
}

// showQuery puts a finished search on screen (on the UI goroutine).
func (g *GUI) showQuery(s *controller.Search, err error) {
	if err != nil {
		g.status.SetText("Search failed: " + plain(err))
		logf("query: %v", err)
		return
	}
	tiles := make([]viewer.Tile, len(s.Results))
	for i, r := range s.Results {
		tiles[i] = tileFor(r.Item, fmt.Sprintf("#%d  %.3f", r.Rank, r.Score), s.Thumbs)
	}
	g.queryHint.SetText("Query: " + s.Name)
	if s.Sample != nil {
		g.queryView.SetSample(s.Sample)
	}
	g.results.SetTiles(tiles)
	g.vote.Show(s.Vote)
	g.showTab(tabResults)
	where := ""
	if d := g.s.Dept(); d != nil {
		where = " in the department index"
		for _, n := range d.TakeSearchNotes() { // objects of the index left out
			where += ". " + n
			logf("department index: %s", n)
		}
	}
	g.status.SetText(fmt.Sprintf("%d similar cases for %s%s", len(tiles), s.Name, where))
}

// ShowResult opens the comparison of the query with the result id.
func (g *GUI) ShowResult(id string) {
	cur := g.s.Current()
	if cur == nil {
		return
	}
	var res library.Result
	for _, r := range cur.Results {
		if r.Item.ID == id {
			res = r
		}
	}
	g.notes.Flush() // what was typed about the result shown so far
	remote := library.Remote(res.Item)
	if remote {
		g.status.SetText("Fetching the case from PACS " + cli.Text(res.Item.Source.Server) + "…")
	}
	g.started("Opening the result", g.s.StartCompare(id, func(l *controller.Loaded, err error) {
		if err != nil {
			g.status.SetText("Could not open the result: " + openProblem(res.Item, err))
			logf("load %s: %v", id, err)
			return
		}
		g.status.SetText("")
		if remote { // now cached in the library
			g.refreshLibrary("")
		}
		title := fmt.Sprintf("%s %s · %s", cli.Text(res.Item.Modality), cli.Text(res.Item.Kind), caption(l.Item))
		g.compare.SetPair(cur.Sample, cur.Name, l.Sample, title, res.Score)
		g.pairMeasures(l)
		g.notes.Show(l.Annotations, l.AnnotationsErr)
		g.showTab(tabCompare)
	}))
}

// openProblem says why a result could not be opened.
func openProblem(it library.Item, err error) string {
	switch {
	case errors.Is(err, cli.ErrNoServer) && library.Remote(it):
		return notConfigured(it.Source.Server)
	case errors.Is(err, library.ErrNotInPACS):
		return "it is on another workstation, not in a PACS this workstation knows (see the PACS tab)."
	case library.Remote(it):
		return "PACS " + cli.Text(it.Source.Server) + " did not send it (" + cli.Text(plain(err)) + ")."
	}
	return "its source file is missing or unreadable."
}

// notConfigured says that a department result's PACS is not one this
// workstation has (the name is the index's, quoted).
func notConfigured(server string) string {
	return fmt.Sprintf("PACS %q is not configured on this workstation; add it with m3ret pacs add.", server)
}

// stepResult compares the previous (d = -1) or next (+1) result.
func (g *GUI) stepResult(d int) {
	tiles := g.results.Tiles()
	at := -1
	for i, t := range tiles {
		if t.ID == g.s.Comparing() {
			at = i
		}
	}
	next := max(0, min(len(tiles)-1, at+d))
	if len(tiles) == 0 || next == at {
		return
	}
	g.results.Select(next)
}
