//go:build !headless

package app

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library"
)

// Sort orders of the library grid.
const (
	sortNewest   = "Newest first"
	sortOldest   = "Oldest first"
	sortModality = "Modality"
	sortKind     = "Kind"
	sortName     = "File name"
	sortDate     = "Study date"
)

var sortOrders = []string{sortNewest, sortOldest, sortModality, sortKind, sortName, sortDate}

// buildBrowser is the library pane: title and sort order, the thumbnail
// grid, and the chosen item's details with Open, Find similar and Remove.
func (g *GUI) buildBrowser() fyne.CanvasObject {
	g.sortBy = widget.NewSelect(sortOrders, func(o string) {
		g.mu.Lock()
		changed := g.libOrder != o
		g.libOrder = o
		g.mu.Unlock()
		if changed {
			g.refreshLibrary("")
		}
	})
	g.libOrder = sortNewest // the first refresh comes from NewGUI
	g.sortBy.SetSelected(sortNewest)
	g.details = widget.NewLabel("Choose an item to see its details.")
	g.details.Wrapping = fyne.TextWrapWord
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("Open", theme.VisibilityIcon(), func() { g.OpenItem(g.selected) }),
		widget.NewButtonWithIcon("Find similar", theme.SearchIcon(), g.findSimilar),
		widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), g.confirmRemove),
	)
	top := container.NewBorder(nil, nil, nil, g.sortBy, g.libTitle)
	return container.NewBorder(top, container.NewVBox(widget.NewSeparator(), g.details, buttons), nil, nil, g.libGrid)
}

// browseItems returns the items the grid shows (passing the search box,
// in the chosen order) and the library's size.
func (g *GUI) browseItems() ([]library.Item, int, error) {
	g.mu.Lock()
	filter, order := g.libFilter, g.libOrder
	g.mu.Unlock()
	items, err := g.s.lib.Items()
	if err != nil {
		return nil, 0, err
	}
	total := len(items)
	if strings.TrimSpace(filter) != "" {
		match, err := g.s.lib.Match(filter)
		if err != nil {
			return nil, total, err
		}
		kept := items[:0]
		for _, it := range items {
			if match[it.ID] {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	sortItems(items, order)
	return items, total, nil
}

// sortItems orders items in place; ties keep the import order.
func sortItems(items []library.Item, order string) {
	key := func(it library.Item) string {
		switch order {
		case sortModality:
			return it.Modality
		case sortKind:
			return it.Kind
		case sortName:
			return strings.ToLower(filepath.Base(it.Path))
		case sortDate:
			return it.StudyDate
		}
		return ""
	}
	switch order {
	case sortNewest, "":
		sort.SliceStable(items, func(i, j int) bool { return items[i].Added.After(items[j].Added) })
	case sortOldest:
	default:
		sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	}
}

// submitFilter applies the search box to the library grid and to the
// last query.
func (g *GUI) submitFilter(text string) {
	g.mu.Lock()
	g.libFilter = text
	g.mu.Unlock()
	g.refreshLibrary("")
	g.requery()
}

// selectItem is the grid's choice: remember it and show its details.
func (g *GUI) selectItem(id string) {
	g.selected = id
	g.showDetails()
}

// showDetails describes the chosen item (on the UI goroutine).
func (g *GUI) showDetails() {
	if g.selected == "" {
		return
	}
	it, err := g.s.lib.Item(g.selected)
	if err != nil {
		g.selected = ""
		g.details.SetText("Choose an item to see its details.")
		return
	}
	g.details.SetText(itemDetails(it))
}

// itemDetails is the text of the details card: what a reader needs to
// choose a case, nothing that identifies the patient.
func itemDetails(it library.Item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s · %s · %d × %d", it.Modality, it.Kind, it.Format, it.Width, it.Height)
	if it.Frames > 1 {
		fmt.Fprintf(&b, " × %d", it.Frames)
	}
	if sp := it.Spacing; sp != [3]float64{} {
		fmt.Fprintf(&b, " · %.3g × %.3g × %.3g mm", sp[0], sp[1], sp[2])
	}
	if it.FrameTime > 0 {
		fmt.Fprintf(&b, " · %.3g fps", 1000/it.FrameTime)
	}
	b.WriteString("\n")
	for _, s := range []string{it.BodyPart, it.Description, it.StudyDate, filepath.Base(it.Path)} {
		if s != "" {
			b.WriteString(s + " · ")
		}
	}
	return strings.TrimSuffix(b.String(), " · ")
}

// confirmRemove asks before removing the chosen item from the library.
func (g *GUI) confirmRemove() {
	id := g.selected
	if id == "" {
		g.status.SetText("Choose an item in the library first.")
		return
	}
	dialog.ShowConfirm("Remove from the library?",
		"The item leaves the library and its search index. Its source files are not touched.",
		func(ok bool) {
			if ok {
				g.RemoveItem(id)
			}
		}, g.win)
}

// RemoveItem removes an item in the background and refreshes the grid.
func (g *GUI) RemoveItem(id string) {
	g.selected = ""
	g.details.SetText("Choose an item to see its details.")
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		if err := g.s.lib.Remove(id); err != nil {
			g.setStatus("Could not remove the item: " + plain(err))
			logf("remove %s: %v", id, err)
			return
		}
		logf("removed item %s", id)
		g.refreshLibrary("Removed one item from the library.")
	}()
}

// tabChanged gives the viewers room: the query pane shrinks while the
// comparison or the viewer is shown.
func (g *GUI) tabChanged(t *container.TabItem) {
	if t.Text == "Results" {
		g.right.SetOffset(0.4)
		return
	}
	g.right.SetOffset(0.18)
	g.viewer.pauseUnlessShown(t.Text == "Viewer")
}

// typedKey handles keys no widget took: the comparison steps through the
// results with ← and →.
func (g *GUI) typedKey(e *fyne.KeyEvent) {
	switch g.tabs.Selected().Text {
	case "Compare":
		g.compare.TypedKey(e)
	case "Viewer":
		g.viewer.typedKey(e)
	}
}
