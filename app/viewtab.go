//go:build !headless

package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

// itemViewer is the Viewer tab: a volume in three planes, a cine player
// or a single image, whichever the item is, with a region tool that
// searches with a rectangle drawn on a slice.
type itemViewer struct {
	g      *GUI
	title  *widget.Label
	volume *viewer.VolumeView
	cine   *viewer.CineView
	image  *viewer.ImageView
	region *widget.Button
	mode   viewMode
	name   string // file name of the item shown
	itemID string
	saver  *measureSaver // keeps what is measured, here and in the comparison
	list   *viewer.MeasureList
	// imagePane is the single image with its measurements.
	imagePane *fyne.Container

	content fyne.CanvasObject
}

// viewMode is the view the Viewer tab shows.
type viewMode int

const (
	viewNone   viewMode = iota // nothing opened yet
	viewVolume                 // a volume in three planes
	viewCine                   // a video or multi-frame image, played
	viewImage                  // a single image
)

func newItemViewer(g *GUI) *itemViewer {
	iv := &itemViewer{g: g, title: widget.NewLabel("Open an item from the library to view it."),
		volume: viewer.NewVolumeView(), cine: viewer.NewCineView(), image: viewer.NewImageView(),
		saver: &measureSaver{g: g}, list: viewer.NewMeasureList("Measurements")}
	iv.title.TextStyle.Bold = true
	iv.title.Truncation = fyne.TextTruncateEllipsis
	for _, v := range iv.imageViews(true) {
		v.OnRegion = func(crop *media.Sample) { iv.regionDrawn(crop) }
	}
	g.wireMeasures(iv)
	iv.list.HideEmpty = true
	iv.list.Follow(iv.image)
	iv.imagePane = container.NewBorder(nil, nil, nil, iv.list, iv.image)
	iv.region = widget.NewButtonWithIcon("Region", theme.ContentCutIcon(), iv.toggleRegion)
	similar := widget.NewButtonWithIcon("Find similar", theme.SearchIcon(), func() {
		if iv.itemID != "" {
			g.StartQueryItem(iv.itemID)
		}
	})
	iv.volume.Hide()
	iv.cine.Hide()
	iv.imagePane.Hide()
	top := container.NewBorder(nil, nil, nil, container.NewHBox(iv.region, similar), iv.title)
	iv.content = container.NewBorder(top, nil, nil, nil, container.NewStack(iv.volume, iv.cine, iv.imagePane))
	return iv
}

// imageViews are the views that draw slices: all of them, or those of the
// current mode.
func (iv *itemViewer) imageViews(all bool) []*viewer.ImageView {
	vol := []*viewer.ImageView{iv.volume.Views[0], iv.volume.Views[1], iv.volume.Views[2]}
	switch {
	case all:
		return append(vol, iv.cine.View, iv.image)
	case iv.mode == viewVolume:
		return vol
	case iv.mode == viewCine:
		return []*viewer.ImageView{iv.cine.View}
	case iv.mode == viewImage:
		return []*viewer.ImageView{iv.image}
	}
	return nil
}

// show puts a sample on screen in the view its kind calls for (on the UI
// goroutine).
func (iv *itemViewer) show(s *media.Sample, id, name string) {
	iv.cine.Pause()
	iv.volume.Hide()
	iv.cine.Hide()
	iv.imagePane.Hide()
	iv.itemID, iv.name = id, name
	switch {
	case s.Kind == media.Volume && s.Frames > 1:
		iv.mode = viewVolume
		iv.volume.SetSample(s)
		iv.volume.Show()
	case s.Frames > 1:
		iv.mode = viewCine
		iv.cine.SetSample(s)
		iv.cine.Show()
	default:
		iv.mode = viewImage
		iv.image.SetSample(s)
		iv.imagePane.Show()
	}
	iv.title.SetText(fmt.Sprintf("%s %s · %s", s.Meta.Modality, s.Kind, name))
	iv.setRegion(false)
}

// toggleRegion turns the region tool on or off.
func (iv *itemViewer) toggleRegion() {
	on := true
	if vs := iv.imageViews(false); len(vs) > 0 {
		on = !vs[0].RegionMode()
	}
	iv.setRegion(on)
}

func (iv *itemViewer) setRegion(on bool) {
	for _, v := range iv.imageViews(true) {
		v.SetRegionMode(on && iv.mode != viewNone)
	}
	iv.region.Importance = widget.MediumImportance
	if on {
		iv.region.Importance = widget.HighImportance
		iv.g.status.SetText("Draw a rectangle on a slice to search with that region.")
	}
	iv.region.Refresh()
}

// regionDrawn searches with the region just drawn.
func (iv *itemViewer) regionDrawn(crop *media.Sample) {
	iv.setRegion(false)
	iv.g.StartQueryRegion(crop, iv.name)
}

// pauseUnlessShown stops a playing cine when its tab is left.
func (iv *itemViewer) pauseUnlessShown(shown bool) {
	if !shown {
		iv.cine.Pause()
	}
}

// typedKey passes keys no widget took to the view shown.
func (iv *itemViewer) typedKey(e *fyne.KeyEvent) {
	if vs := iv.imageViews(false); len(vs) > 0 {
		vs[0].TypedKey(e)
	}
}

// summary says what the viewer shows, for the ready file.
func (iv *itemViewer) summary() string {
	switch iv.mode {
	case viewVolume:
		var names []string
		for _, v := range iv.volume.Views {
			names = append(names, fmt.Sprintf("%s:%d", v.PlaneName(), v.Frames()))
		}
		return "volume " + strings.Join(names, ",")
	case viewCine:
		return fmt.Sprintf("cine frames:%d fps:%g", iv.cine.View.Frames(), iv.cine.Rate())
	case viewImage:
		return "image"
	}
	return "none"
}

// OpenItem shows a library item in the Viewer tab, decoding it in the
// background; a newer one supersedes it.
func (g *GUI) OpenItem(id string) {
	if id == "" {
		g.status.SetText("Choose an item in the library first.")
		return
	}
	g.status.SetText("Opening…")
	g.started("Opening the item", g.s.StartView(id, g.showLoaded))
}

// showLoaded puts a decoded item or file in the Viewer tab (on the UI
// goroutine).
func (g *GUI) showLoaded(l *controller.Loaded, err error) {
	if err != nil {
		g.status.SetText("Could not open the item: its source file is missing or unreadable.")
		logf("open for viewing: %v", err)
		return
	}
	g.viewer.show(l.Sample, l.ID, l.Name)
	g.viewer.setMeasurements(l.Measurements)
	g.showTab(tabViewer)
	g.status.SetText("Viewing " + l.Name)
}
