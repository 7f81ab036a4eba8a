//go:build !headless

package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

// resultK is how many neighbours the window shows.
const resultK = 24

// StartQueryFile searches the library for the cases nearest to a file, in
// the background.
func (g *GUI) StartQueryFile(path string) {
	g.startQuery(func(filter string) (*library.Query, string, error) {
		q, err := g.s.lib.QueryFile(context.Background(), path, resultK, filter)
		if err == nil {
			g.mu.Lock()
			g.queryPath = path
			g.mu.Unlock()
		}
		return q, filepath.Base(path), err
	})
}

// findSimilar searches with the library item chosen in the grid.
func (g *GUI) findSimilar() {
	id := g.selected
	if id == "" {
		g.status.SetText("Choose an item in the library first, or drop a file on the query pane.")
		return
	}
	g.StartQueryItem(id)
}

// StartQueryItem searches the library for the cases nearest to an item.
func (g *GUI) StartQueryItem(id string) {
	g.startQuery(func(filter string) (*library.Query, string, error) {
		q, err := g.s.lib.QueryItem(context.Background(), id, resultK, filter)
		if err != nil {
			return nil, id, err
		}
		it, err := g.s.lib.Item(id)
		if err != nil {
			return nil, id, err
		}
		q.Sample, _ = g.s.lib.Load(context.Background(), id) // a missing source still leaves the results
		return q, filepath.Base(it.Path), nil
	})
}

// startQuery runs a search in the background with the current filter and
// shows what it finds.
func (g *GUI) startQuery(search func(filter string) (*library.Query, string, error)) {
	filter := g.filter.Text
	g.setStatus("Searching…")
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		q, name, err := search(filter)
		g.showQuery(q, name, err)
	}()
}

// requery repeats the last query with the current filter.
func (g *GUI) requery() {
	g.mu.Lock()
	q, path := g.query, g.queryPath
	g.mu.Unlock()
	switch {
	case q == nil:
	case q.ItemID != "":
		g.StartQueryItem(q.ItemID)
	default:
		g.StartQueryFile(path)
	}
}

// showQuery puts a finished query on screen (called off the UI goroutine).
func (g *GUI) showQuery(q *library.Query, name string, err error) {
	if err != nil {
		g.setStatus("Search failed: " + plain(err))
		logf("query: %v", err)
		return
	}
	tiles := make([]viewer.Tile, len(q.Results))
	for i, r := range q.Results {
		tiles[i] = g.tileFor(r.Item, fmt.Sprintf("#%d  %.3f", r.Rank, r.Score))
		tiles[i].Badges = []string{r.Item.Modality, r.Item.Kind}
	}
	g.mu.Lock()
	g.query, g.queryName = q, name
	g.mu.Unlock()
	g.do(func() {
		g.queryHint.SetText("Query: " + name)
		if q.Sample != nil {
			g.queryView.SetSample(q.Sample)
		}
		g.results.SetTiles(tiles)
		g.tabs.SelectIndex(0)
		g.status.SetText(fmt.Sprintf("%d similar cases for %s", len(tiles), name))
	})
}

// ShowResult opens the comparison of the query with the result id.
func (g *GUI) ShowResult(id string) {
	g.mu.Lock()
	q, name := g.query, g.queryName
	g.mu.Unlock()
	if q == nil {
		return
	}
	var res library.Result
	for _, r := range q.Results {
		if r.Item.ID == id {
			res = r
		}
	}
	g.comparing = id
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		s, err := g.s.lib.Load(context.Background(), id)
		if err != nil {
			g.setStatus("Could not open the result: its source file is missing or unreadable.")
			logf("load %s: %v", id, err)
			return
		}
		title := fmt.Sprintf("%s %s · %s", res.Item.Modality, res.Item.Kind, filepath.Base(res.Item.Path))
		g.do(func() {
			g.compare.SetPair(q.Sample, name, s, title, res.Score)
			g.tabs.SelectIndex(1)
		})
	}()
}

// StartQueryRegion searches with a region cut from a slice (a 2D crop).
func (g *GUI) StartQueryRegion(crop *media.Sample, from string) {
	name := fmt.Sprintf("region %d×%d of %s", crop.Width, crop.Height, from)
	g.startQuery(func(filter string) (*library.Query, string, error) {
		q, err := g.s.lib.QuerySample(context.Background(), crop, resultK, filter)
		return q, name, err
	})
}

// refineWithShown adds the result shown in the comparison to the query as
// a second example and searches again.
func (g *GUI) refineWithShown() {
	g.mu.Lock()
	q, name := g.query, g.queryName
	g.mu.Unlock()
	if q == nil || g.comparing == "" {
		return
	}
	id := g.comparing
	g.startQuery(func(filter string) (*library.Query, string, error) {
		r, err := g.s.lib.Refine(context.Background(), q, id, resultK, filter)
		return r, fmt.Sprintf("%s + %d example", strings.SplitN(name, " + ", 2)[0], len(q.Examples)+1), err
	})
}

// stepResult compares the previous (d = -1) or next (+1) result.
func (g *GUI) stepResult(d int) {
	tiles := g.results.Tiles()
	at := -1
	for i, t := range tiles {
		if t.ID == g.comparing {
			at = i
		}
	}
	next := max(0, min(len(tiles)-1, at+d))
	if len(tiles) == 0 || next == at {
		return
	}
	g.results.Select(next)
}
