//go:build !headless

package app

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
)

// buildBrowser is the library pane: title and sort order, the thumbnail
// grid, and the chosen item's details with Open, Find similar and Remove.
func (g *GUI) buildBrowser() fyne.CanvasObject {
	labels := make([]string, len(controller.Orders))
	for i, o := range controller.Orders {
		labels[i] = o.String()
	}
	g.sortBy = widget.NewSelect(labels, func(label string) {
		if g.s.SetOrder(controller.OrderOf(label)) {
			g.refreshLibrary("")
		}
	})
	g.sortBy.SetSelected(controller.Newest.String()) // the controller's order: no refresh
	g.details = widget.NewLabel(noDetails)
	g.details.Wrapping = fyne.TextWrapWord
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("Open", theme.VisibilityIcon(), func() { g.OpenItem(g.s.Selected()) }),
		widget.NewButtonWithIcon("Find similar", theme.SearchIcon(), g.findSimilar),
		widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), g.confirmRemove),
	)
	top := container.NewBorder(nil, nil, nil, g.sortBy, g.libTitle)
	return container.NewBorder(top, container.NewVBox(widget.NewSeparator(), g.details, buttons), nil, nil, g.libGrid)
}

const noDetails = "Choose an item to see its details."

// submitFilter applies the search box to the library grid and to the
// last query.
func (g *GUI) submitFilter(text string) {
	g.s.SetFilter(text)
	g.refreshLibrary("")
	g.requery()
}

// selectItem is the grid's choice: remember it and show its details.
func (g *GUI) selectItem(id string) {
	g.s.Select(id)
	g.showDetails()
}

// showDetails describes the chosen item (on the UI goroutine).
func (g *GUI) showDetails() {
	id := g.s.Selected()
	if id == "" {
		return
	}
	it, err := g.s.Item(id)
	if err != nil {
		g.s.Select("")
		g.details.SetText(noDetails)
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
	id := g.s.Selected()
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
	g.details.SetText(noDetails)
	g.started("Removing the item", g.s.StartRemove(id, func(err error) {
		if err != nil {
			g.status.SetText("Could not remove the item: " + plain(err))
			logf("remove %s: %v", id, err)
			return
		}
		logf("removed item %s", id)
		g.refreshLibrary("Removed one item from the library.")
	}))
}

// tabChanged gives the viewers room: the query pane shrinks while the
// comparison or the viewer is shown.
func (g *GUI) tabChanged(t tab) {
	if t == tabResults {
		g.right.SetOffset(0.4)
		return
	}
	g.right.SetOffset(0.18)
	g.viewer.pauseUnlessShown(t == tabViewer)
	if t == tabPACS {
		g.pacs.reloadServers()
	}
}

// typedKey handles keys no widget took: the comparison steps through the
// results with ← and →.
func (g *GUI) typedKey(e *fyne.KeyEvent) {
	switch g.shownTab() {
	case tabCompare:
		g.compare.TypedKey(e)
	case tabViewer:
		g.viewer.typedKey(e)
	}
}
