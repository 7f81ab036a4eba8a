package viewer

import (
	"fmt"
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
)

// ImageView shows one slice of an image, a volume (any of its three planes)
// or a video, with the reading-room controls: window/level by right-drag
// (or left-drag), presets on the number keys, invert, zoom (Ctrl+wheel, +
// and -), pan (middle-drag), fit and 1:1, the value and position under the
// cursor, orientation letters, and a slider, the wheel and the arrow keys
// for slices. Drawing goes through a lookup table into a reused buffer,
// once per screen frame however many events arrive. Use it from the UI
// goroutine only.
type ImageView struct {
	widget.BaseWidget
	pl     *plane
	frame  int
	values []float32 // the slice shown
	win    media.Window
	preset string
	invert bool
	zoom   float64
	panX   float32 // slice centre from view centre, in Fyne units
	panY   float32
	table  *Table
	dirty  bool // table out of date
	buf    canvasBuf
	crossX int // cross-reference lines, slice pixels; -1 for none
	crossY int

	regionMode bool
	region     [2]fyne.Position // drag corners in view coordinates
	drag       dragState
	meas       measureState // measuring tools (measuretool.go)

	raster  *canvas.Raster
	slider  *widget.Slider
	info    *canvas.Text
	readout *canvas.Text
	caption *canvas.Text
	marks   [4]*canvas.Text // top, bottom, left, right
	lines   [2]*canvas.Line // vertical, horizontal
	box     *canvas.Rectangle

	// OnFrame, if set, is called after the slice changes.
	OnFrame func(frame int)
	// OnWindow, if set, is called when the user changes the window.
	OnWindow func(w media.Window, invert bool)
	// OnRegion, if set, receives the crop of a rectangle drawn in region
	// mode, as a 2D sample.
	OnRegion func(crop *media.Sample)
	// OnPoint, if set, is called with the slice pixel the user clicks.
	OnPoint func(x, y int)
	// OnKey, if set, gets the keys the view does not use itself and says
	// whether it used them.
	OnKey func(e *fyne.KeyEvent) bool
	// OnDraw, if set, is called after each drawing of the slice with the
	// slice drawn (for frame-rate measurements). It runs where Fyne paints
	// and must not block.
	OnDraw func(frame int)
	// OnMeasurementsChanged, if set, gets the item's measurements after
	// the user draws, edits or deletes one (to keep them); it must not
	// block.
	OnMeasurementsChanged func([]measure.Measurement)
}

// NewImageView returns an empty view.
func NewImageView() *ImageView {
	v := &ImageView{zoom: 1, crossX: -1, crossY: -1}
	v.raster = canvas.NewRaster(v.render)
	v.raster.ScaleMode = canvas.ImageScalePixels
	v.raster.SetMinSize(fyne.NewSize(96, 96)) // small: three views stack in the window's right column
	v.slider = widget.NewSlider(0, 1)
	v.slider.Step = 1
	v.slider.OnChanged = func(f float64) { v.SetFrame(int(f)) }
	v.slider.Hide()
	v.info, v.readout, v.caption = overlayText(), overlayText(), overlayText()
	for i := range v.marks {
		v.marks[i] = overlayText()
		v.marks[i].Color = markColour
		v.marks[i].TextStyle.Bold = true
	}
	for i := range v.lines {
		v.lines[i] = canvas.NewLine(crossColours[i])
		v.lines[i].StrokeWidth = 1
		v.lines[i].Hide()
	}
	v.box = canvas.NewRectangle(nil)
	v.box.StrokeColor, v.box.StrokeWidth = regionColour, 1.5
	v.box.Hide()
	v.meas.init(v)
	v.ExtendBaseWidget(v)
	return v
}

// SetSample shows s (its middle slice, default window, fitted); nil clears
// the view.
func (v *ImageView) SetSample(s *media.Sample) { v.SetPlane(s, Native) }

// SetPlane shows the slices of s along axis.
func (v *ImageView) SetPlane(s *media.Sample, axis Axis) {
	v.resetMeasures(s)
	v.zoom, v.panX, v.panY, v.invert = 1, 0, 0, false
	v.crossX, v.crossY = -1, -1
	if s == nil || s.Validate() != nil {
		v.pl, v.values = nil, nil
		v.slider.Hide()
		v.redraw()
		return
	}
	v.pl = &plane{s: s, axis: axis}
	_, _, n := v.pl.size()
	v.slider.Max = float64(max(n-1, 1))
	v.slider.Hidden = n <= 1
	v.frame = -1
	v.showFrame(n / 2)
	v.applyPreset(Preset{Key: '0', Name: "Default", Default: true})
	v.Refresh()
}

// Sample returns the sample shown, if any.
func (v *ImageView) Sample() *media.Sample {
	if v.pl == nil {
		return nil
	}
	return v.pl.s
}

// Frames is the number of slices the view scrolls through.
func (v *ImageView) Frames() int {
	if v.pl == nil {
		return 0
	}
	_, _, n := v.pl.size()
	return n
}

// Frame returns the slice shown.
func (v *ImageView) Frame() int { return v.frame }

// PlaneName is the plane's anatomical name (Axial, Coronal, Sagittal) when
// the orientation is known.
func (v *ImageView) PlaneName() string {
	if v.pl == nil {
		return ""
	}
	return v.pl.name()
}

// SetFrame shows slice f (clamped to the range).
func (v *ImageView) SetFrame(f int) {
	if v.pl == nil {
		return
	}
	f = max(0, min(v.Frames()-1, f))
	if f == v.frame {
		return
	}
	v.showFrame(f)
	v.redraw()
	if v.OnFrame != nil {
		v.OnFrame(f)
	}
}

func (v *ImageView) showFrame(f int) {
	v.frame = f
	v.values = v.pl.slice(f)
	if int(v.slider.Value) != f {
		cb := v.slider.OnChanged
		v.slider.OnChanged = nil
		v.slider.SetValue(float64(f))
		v.slider.OnChanged = cb
	}
}

// Step moves by d slices.
func (v *ImageView) Step(d int) { v.SetFrame(v.frame + d) }

// Window returns the window in use and whether the view is inverted.
func (v *ImageView) Window() (media.Window, bool) { return v.win, v.invert }

// SetWindow sets the window (and inversion) without calling OnWindow.
func (v *ImageView) SetWindow(w media.Window, invert bool) {
	if w.Width <= 0 {
		w.Width = 1
	}
	if w == v.win && invert == v.invert {
		return
	}
	v.win, v.invert, v.preset, v.dirty = w, invert, "", true
	v.redraw()
}

// ApplyPreset applies the preset on key r for the sample's modality; it
// reports whether there is one.
func (v *ImageView) ApplyPreset(r rune) bool {
	if v.pl == nil {
		return false
	}
	p, ok := PresetFor(v.pl.s.Meta.Modality, r)
	if ok {
		v.applyPreset(p)
		v.windowChanged()
	}
	return ok
}

func (v *ImageView) applyPreset(p Preset) {
	v.win, v.preset, v.dirty = p.Resolve(v.pl.s, v.greyValues()), p.Name, true
	v.redraw()
}

// greyValues is the slice shown as one value a pixel.
func (v *ImageView) greyValues() []float32 {
	if v.pl.channels() == 1 {
		return v.values
	}
	w, h, _ := v.pl.size()
	out := make([]float32, w*h)
	for i := range out {
		out[i] = luma(v.values[3*i:])
	}
	return out
}

// Invert flips black and white.
func (v *ImageView) Invert() {
	v.invert, v.dirty = !v.invert, true
	v.redraw()
	v.windowChanged()
}

func (v *ImageView) windowChanged() {
	if v.OnWindow != nil {
		v.OnWindow(v.win, v.invert)
	}
}

// Zoom is the magnification: 1 fits the slice to the view.
func (v *ImageView) Zoom() float64 { return v.zoom }

// Pan is the offset of the slice centre from the view centre.
func (v *ImageView) Pan() fyne.Position { return fyne.NewPos(v.panX, v.panY) }

// SetZoom sets the magnification, keeping the point at anchor (view
// coordinates) where it is.
func (v *ImageView) SetZoom(z float64, anchor fyne.Position) {
	if v.pl == nil {
		return
	}
	z = math.Max(0.01, math.Min(40, z))
	vp := v.viewport(v.area())
	x, y := vp.toImage(float64(anchor.X), float64(anchor.Y))
	vp.zoom = z
	X, Y := vp.toScreen(x, y)
	v.zoom = z
	v.panX += anchor.X - float32(X)
	v.panY += anchor.Y - float32(Y)
	v.redraw()
}

// Fit shows the whole slice, centred.
func (v *ImageView) Fit() {
	v.zoom, v.panX, v.panY = 1, 0, 0
	v.redraw()
}

// OneToOne shows one slice pixel per screen pixel, about the centre.
func (v *ImageView) OneToOne() {
	if v.pl == nil {
		return
	}
	s := v.area()
	vp := v.viewport(s)
	scale := float64(v.pixelScale())
	v.SetZoom(vp.oneToOne()/scale, fyne.NewPos(s.Width/2, s.Height/2))
}

// SetCross draws the cross-reference lines through slice pixel column x and
// row y (-1 hides a line).
func (v *ImageView) SetCross(x, y int) {
	if x == v.crossX && y == v.crossY {
		return
	}
	v.crossX, v.crossY = x, y
	v.placeOverlays()
}

// SetRegionMode turns region drawing on: a left-drag then draws a
// rectangle and OnRegion gets its crop.
func (v *ImageView) SetRegionMode(on bool) {
	if on {
		v.SetTool("")
	}
	v.regionMode = on
	v.redraw()
}

// RegionMode tells whether region drawing is on.
func (v *ImageView) RegionMode() bool { return v.regionMode }

// area is the size of the image part of the view (above the slider).
func (v *ImageView) area() fyne.Size {
	s := v.Size()
	if !v.slider.Hidden {
		s.Height -= v.slider.MinSize().Height
	}
	return fyne.NewSize(max(s.Width, 1), max(s.Height, 1))
}

// pixelScale is raster pixels per Fyne unit.
func (v *ImageView) pixelScale() float32 {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil && c.Scale() > 0 {
		return c.Scale()
	}
	return 1
}

// viewport is the mapping for a view of size s (Fyne units).
func (v *ImageView) viewport(s fyne.Size) viewport {
	w, h, _ := v.pl.size()
	dx, dy := v.pl.spacing()
	return viewport{sw: int(s.Width), sh: int(s.Height), iw: w, ih: h, dx: dx, dy: dy,
		zoom: v.zoom, panX: float64(v.panX), panY: float64(v.panY)}
}

// render is the raster's generator: the slice at w×h pixels.
func (v *ImageView) render(w, h int) image.Image {
	if v.pl == nil || w <= 0 || h <= 0 {
		return image.NewRGBA(image.Rect(0, 0, 1, 1))
	}
	if v.table == nil || v.dirty {
		v.table = NewTable(v.win, v.tableOptions())
		v.dirty = false
	}
	vp := v.viewport(fyne.NewSize(float32(w), float32(h)))
	sc := 1.0
	if a := v.area(); a.Width > 1 {
		sc = float64(w) / float64(a.Width)
	}
	vp.panX, vp.panY = vp.panX*sc, vp.panY*sc
	img := v.buf.draw(v.values, v.pl.channels(), vp, v.table)
	if v.OnDraw != nil {
		v.OnDraw(v.frame)
	}
	return img
}

func (v *ImageView) tableOptions() TableOptions {
	s := v.pl.s
	opt := TableOptions{Invert: v.invert, Mono1: s.Meta.Photometric == "MONOCHROME1"}
	if v.preset == "Default" && (s.Window == nil || s.Window.Width <= 0) {
		opt.VOI = s.VOI
	}
	return opt
}

// Render draws the view as it would be on a w×h pixel screen (for tests,
// benchmarks and exports).
func (v *ImageView) Render(w, h int) image.Image { return v.withMeasures(v.render(w, h)) }

// redraw updates the texts and overlays and asks for a new frame.
func (v *ImageView) redraw() {
	v.updateTexts()
	v.placeOverlays()
	canvas.Refresh(v.raster)
}

func (v *ImageView) updateTexts() {
	if v.pl == nil {
		for _, t := range append([]*canvas.Text{v.info, v.readout, v.caption}, v.marks[:]...) {
			t.Text = ""
		}
		return
	}
	name := v.preset
	if name == "" {
		name = "custom"
	}
	v.info.Text = fmt.Sprintf("W %s L %s (%s) · %.0f%%", num(v.win.Width), num(v.win.Center), name, v.zoom*100)
	if p := v.PlaneName(); p != "" {
		v.info.Text = p + " · " + v.info.Text
	}
	if v.invert {
		v.info.Text += " · inverted"
	}
	if v.regionMode {
		v.info.Text += " · draw a region"
	}
	v.info.Text += v.measureInfo()
	w, h, n := v.pl.size()
	v.caption.Text = fmt.Sprintf("%d × %d", w, h)
	if n > 1 {
		v.caption.Text = fmt.Sprintf("%s %d / %d", frameWord(v.pl), v.frame+1, n)
	}
	right, down := v.pl.letters()
	for i, c := range []byte{opposite(down), down, opposite(right), right} {
		v.marks[i].Text = ""
		if c != 0 {
			v.marks[i].Text = string(c)
		}
	}
	for _, t := range append([]*canvas.Text{v.info, v.caption}, v.marks[:]...) {
		t.Refresh()
	}
}

func frameWord(p *plane) string {
	if p.s.Kind == media.Video {
		return "frame"
	}
	return "slice"
}

// num prints a window value without needless decimals.
func num(f float64) string {
	if math.Abs(f) >= 10 || f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.3g", f)
}

// CreateRenderer implements fyne.Widget.
func (v *ImageView) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(backgroundColour)
	objs := []fyne.CanvasObject{bg, v.raster, v.meas.overlay, v.lines[0], v.lines[1], v.box, v.info, v.readout, v.caption}
	for _, m := range v.marks {
		objs = append(objs, m)
	}
	objs = append(objs, v.slider)
	return &imageViewRenderer{v: v, bg: bg, objects: objs}
}
