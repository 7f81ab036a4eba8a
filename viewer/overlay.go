package viewer

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// Colours of the overlays, drawn on the black of the image whatever the
// theme.
var (
	backgroundColour = color.NRGBA{A: 255}
	textColour       = color.NRGBA{R: 235, G: 235, B: 235, A: 255}
	markColour       = color.NRGBA{R: 255, G: 210, B: 90, A: 255}
	regionColour     = color.NRGBA{R: 80, G: 220, B: 120, A: 255}
	// crossColours tell the planes apart: a line has the colour of the
	// plane it stands for.
	crossColours = [2]color.Color{color.NRGBA{R: 90, G: 170, B: 255, A: 220}, color.NRGBA{R: 255, G: 120, B: 90, A: 220}}
)

const overlaySize = 12

func overlayText() *canvas.Text {
	t := canvas.NewText("", textColour)
	t.TextSize = overlaySize
	return t
}

type imageViewRenderer struct {
	v       *ImageView
	bg      *canvas.Rectangle
	objects []fyne.CanvasObject
}

func (r *imageViewRenderer) Layout(size fyne.Size) {
	v := r.v
	a := v.area()
	r.bg.Resize(a)
	v.raster.Move(fyne.NewPos(0, 0))
	v.raster.Resize(a)
	v.slider.Move(fyne.NewPos(0, a.Height))
	v.slider.Resize(fyne.NewSize(size.Width, v.slider.MinSize().Height))
	v.placeOverlays()
}

func (r *imageViewRenderer) MinSize() fyne.Size {
	m := r.v.raster.MinSize()
	if !r.v.slider.Hidden {
		m.Height += r.v.slider.MinSize().Height
	}
	return m
}

func (r *imageViewRenderer) Refresh() {
	r.v.updateTexts()
	r.Layout(r.v.Size())
	canvas.Refresh(r.v.raster)
	r.v.slider.Refresh()
}

func (r *imageViewRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *imageViewRenderer) Destroy()                     {}

// placeOverlays puts the texts at the corners and edges, and the
// cross-reference lines and region box where they fall on the slice.
func (v *ImageView) placeOverlays() {
	a := v.area()
	line := float32(overlaySize + 4)
	at := func(t *canvas.Text, x, y float32) {
		t.Move(fyne.NewPos(x, y))
		t.Resize(t.MinSize())
	}
	at(v.info, 6, 4)
	at(v.readout, 6, a.Height-line-2)
	at(v.caption, a.Width-v.caption.MinSize().Width-6, a.Height-line-2)
	at(v.marks[0], a.Width/2-4, 4+line)
	at(v.marks[1], a.Width/2-4, a.Height-2*line-2)
	at(v.marks[2], 6, a.Height/2-line/2)
	at(v.marks[3], a.Width-v.marks[3].MinSize().Width-6, a.Height/2-line/2)
	v.placeLines(a)
	v.placeBox()
	v.placeMeasures(a)
}

func (v *ImageView) placeLines(a fyne.Size) {
	if v.pl == nil {
		v.lines[0].Hide()
		v.lines[1].Hide()
		return
	}
	vp := v.viewport(a)
	x0, y0 := vp.toScreen(0, 0)
	x1, y1 := vp.toScreen(float64(vp.iw), float64(vp.ih))
	clampX := func(f float64) float32 { return float32(max(0, min(float64(a.Width), f))) }
	clampY := func(f float64) float32 { return float32(max(0, min(float64(a.Height), f))) }
	if v.crossX >= 0 {
		X, _ := vp.toScreen(float64(v.crossX)+0.5, 0)
		v.lines[0].Position1 = fyne.NewPos(float32(X), clampY(y0))
		v.lines[0].Position2 = fyne.NewPos(float32(X), clampY(y1))
		v.lines[0].Show()
	} else {
		v.lines[0].Hide()
	}
	if v.crossY >= 0 {
		_, Y := vp.toScreen(0, float64(v.crossY)+0.5)
		v.lines[1].Position1 = fyne.NewPos(clampX(x0), float32(Y))
		v.lines[1].Position2 = fyne.NewPos(clampX(x1), float32(Y))
		v.lines[1].Show()
	} else {
		v.lines[1].Hide()
	}
	v.lines[0].Refresh()
	v.lines[1].Refresh()
}

func (v *ImageView) placeBox() {
	if !v.drag.region {
		v.box.Hide()
		return
	}
	p, q := v.region[0], v.region[1]
	v.box.Move(fyne.NewPos(min(p.X, q.X), min(p.Y, q.Y)))
	v.box.Resize(fyne.NewSize(abs32(q.X-p.X), abs32(q.Y-p.Y)))
	v.box.Show()
	v.box.Refresh()
}

func abs32(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}
