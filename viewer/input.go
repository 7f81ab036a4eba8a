package viewer

import (
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/m3ret/viewer/library/media"
)

// dragState is the mouse button held and where the last event was.
type dragState struct {
	button desktop.MouseButton
	last   fyne.Position
	region bool // drawing a region
}

// keyModifiers reports the modifier keys held (Ctrl for wheel zoom); tests
// replace it.
var keyModifiers = func() fyne.KeyModifier {
	if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()
	}
	return 0
}

var (
	_ fyne.Scrollable    = (*ImageView)(nil)
	_ fyne.Draggable     = (*ImageView)(nil)
	_ fyne.Focusable     = (*ImageView)(nil)
	_ fyne.Tappable      = (*ImageView)(nil)
	_ desktop.Mouseable  = (*ImageView)(nil)
	_ desktop.Hoverable  = (*ImageView)(nil)
	_ desktop.Cursorable = (*ImageView)(nil)
)

// Scrolled steps through slices with the wheel, or zooms about the cursor
// with Ctrl (or Cmd) held.
func (v *ImageView) Scrolled(e *fyne.ScrollEvent) {
	if keyModifiers()&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		v.SetZoom(v.zoom*math.Pow(1.1, float64(e.Scrolled.DY)/10), e.Position)
		return
	}
	switch {
	case e.Scrolled.DY > 0:
		v.Step(-1)
	case e.Scrolled.DY < 0:
		v.Step(1)
	}
}

// MouseDown remembers the button for the drag that may follow.
func (v *ImageView) MouseDown(e *desktop.MouseEvent) {
	v.drag = dragState{button: e.Button, last: e.Position}
	v.focus()
}

// MouseUp ends a right-drag.
func (v *ImageView) MouseUp(*desktop.MouseEvent) { v.drag.button = 0 }

// MouseIn shows the value under the cursor.
func (v *ImageView) MouseIn(e *desktop.MouseEvent) { v.MouseMoved(e) }

// MouseMoved shows the value under the cursor; with the right button held
// (which Fyne does not report as a drag) it windows.
func (v *ImageView) MouseMoved(e *desktop.MouseEvent) {
	if e.Button == desktop.MouseButtonSecondary && v.drag.button == desktop.MouseButtonSecondary {
		v.DragWindow(e.Position.X-v.drag.last.X, e.Position.Y-v.drag.last.Y)
		v.drag.last = e.Position
	}
	v.measureMoved(e.Position)
	v.ShowValueAt(e.Position)
}

// MouseOut clears the value readout.
func (v *ImageView) MouseOut() {
	v.readout.Text = ""
	v.readout.Refresh()
}

// Cursor is a crosshair over images.
func (v *ImageView) Cursor() desktop.Cursor { return desktop.CrosshairCursor }

// Dragged windows (left button), pans (middle button), draws a region
// (left button in region mode), draws a measurement (left button with a
// measuring tool) or moves the measurement handle it starts on.
func (v *ImageView) Dragged(e *fyne.DragEvent) {
	switch {
	case v.drag.button == desktop.MouseButtonTertiary:
		v.panX += e.Dragged.DX
		v.panY += e.Dragged.DY
		v.redraw()
	case v.regionMode:
		if !v.drag.region {
			v.drag.region = true
			v.region[0] = e.Position.Subtract(e.Dragged)
		}
		v.region[1] = e.Position
		v.placeBox()
	case v.measureDragged(e):
	default:
		v.DragWindow(e.Dragged.DX, e.Dragged.DY)
	}
	v.ShowValueAt(e.Position)
}

// DragEnd finishes a region.
func (v *ImageView) DragEnd() {
	v.measureDragEnd()
	if v.drag.region {
		v.drag.region = false
		v.placeBox()
		if crop := v.Crop(v.region[0], v.region[1]); crop != nil && v.OnRegion != nil {
			v.OnRegion(crop)
		}
	}
	v.drag.button = 0
}

// DragWindow changes the window as a mouse drag by (dx, dy) does: right
// widens it, down raises the level, in steps proportional to the width.
func (v *ImageView) DragWindow(dx, dy float32) {
	if v.pl == nil || (dx == 0 && dy == 0) {
		return
	}
	step := math.Max(v.win.Width, 1) / 256
	w := v.win
	w.Width = math.Max(step/4, w.Width+float64(dx)*step)
	w.Center += float64(dy) * step
	v.win, v.preset, v.dirty = w, "", true
	v.redraw()
	v.windowChanged()
}

// Tapped focuses the view (for the keys) and reports the slice pixel.
func (v *ImageView) Tapped(e *fyne.PointEvent) {
	v.focus()
	if v.measureTapped(e.Position) {
		return
	}
	if v.pl == nil || v.OnPoint == nil {
		return
	}
	if x, y, ok := v.pixelAt(e.Position); ok {
		v.OnPoint(x, y)
	}
}

func (v *ImageView) focus() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil && c.Focused() != v {
		c.Focus(v)
	}
}

// pixelAt is the slice pixel at a view position.
func (v *ImageView) pixelAt(p fyne.Position) (x, y int, ok bool) {
	vp := v.viewport(v.area())
	fx, fy := vp.toImage(float64(p.X), float64(p.Y))
	if fx < 0 || fy < 0 || fx >= float64(vp.iw) || fy >= float64(vp.ih) {
		return 0, 0, false
	}
	return int(fx), int(fy), true
}

// ShowValueAt shows the position and value of the pixel at p (view
// coordinates): HU for CT, RGB for colour.
func (v *ImageView) ShowValueAt(p fyne.Position) {
	v.readout.Text = v.ValueText(p)
	v.readout.Refresh()
}

// ValueText describes the pixel at p, "" outside the slice.
func (v *ImageView) ValueText(p fyne.Position) string {
	if v.pl == nil {
		return ""
	}
	x, y, ok := v.pixelAt(p)
	if !ok {
		return ""
	}
	sx, sy, st := v.pl.toStack(v.frame, x, y)
	w, _, _ := v.pl.size()
	pos := fmt.Sprintf("x %d  y %d", sx, sy)
	if v.pl.s.Frames > 1 {
		pos += fmt.Sprintf("  z %d", st+1)
	}
	if v.pl.channels() == 3 {
		q := v.values[3*(y*w+x):]
		return fmt.Sprintf("%s · R %.0f G %.0f B %.0f", pos, q[0], q[1], q[2])
	}
	val := v.values[y*w+x]
	if v.pl.s.Meta.Photometric == "MONOCHROME1" {
		val = -val // shown as stored
	}
	unit := ""
	if v.pl.s.Meta.Modality == "CT" {
		unit = " HU"
	}
	return fmt.Sprintf("%s · %s%s", pos, num(float64(val)), unit)
}

// Crop returns the part of the slice inside the rectangle with corners p
// and q (view coordinates) as a 2D sample, nil when it is smaller than 8×8
// pixels.
func (v *ImageView) Crop(p, q fyne.Position) *media.Sample {
	if v.pl == nil {
		return nil
	}
	vp := v.viewport(v.area())
	ax, ay := vp.toImage(float64(min(p.X, q.X)), float64(min(p.Y, q.Y)))
	bx, by := vp.toImage(float64(max(p.X, q.X)), float64(max(p.Y, q.Y)))
	w, h, _ := v.pl.size()
	x0, y0 := max(0, int(ax)), max(0, int(ay))
	x1, y1 := min(w, int(math.Ceil(bx))), min(h, int(math.Ceil(by)))
	if x1-x0 < 8 || y1-y0 < 8 {
		return nil
	}
	return cropSample(v.pl, v.values, x0, y0, x1, y1, v.win)
}

func cropSample(p *plane, vals []float32, x0, y0, x1, y1 int, win media.Window) *media.Sample {
	c := p.channels()
	w, _, _ := p.size()
	s := p.s
	out := &media.Sample{Kind: media.Image2D, Width: x1 - x0, Height: y1 - y0, Frames: 1, Channels: c, Meta: s.Meta}
	out.Meta.SourceFrames, out.Meta.Orientation, out.Meta.InstanceUID = 0, "", ""
	dx, dy := p.spacing()
	out.Spacing = [3]float64{dx, dy, 0}
	out.Window = &win
	out.Data = make([]float32, 0, (x1-x0)*(y1-y0)*c)
	for y := y0; y < y1; y++ {
		out.Data = append(out.Data, vals[(y*w+x0)*c:(y*w+x1)*c]...)
	}
	return out
}

// FocusGained implements fyne.Focusable.
func (v *ImageView) FocusGained() {}

// FocusLost implements fyne.Focusable.
func (v *ImageView) FocusLost() {}

// TypedRune handles the letter and number keys: 0-9 presets, i invert, f
// fit, a actual size (1:1), + and - zoom, r region mode, and the measuring
// tools: l length, g angle, e ellipse, b rectangle.
func (v *ImageView) TypedRune(r rune) {
	centre := fyne.NewPos(v.area().Width/2, v.area().Height/2)
	switch r {
	case 'i', 'I':
		v.Invert()
	case 'f', 'F':
		v.Fit()
	case 'a', 'A':
		v.OneToOne()
	case '+', '=':
		v.SetZoom(v.zoom*1.25, centre)
	case '-':
		v.SetZoom(v.zoom/1.25, centre)
	case 'r', 'R':
		v.SetRegionMode(!v.regionMode)
	default:
		if !v.measureRune(r) {
			v.ApplyPreset(r)
		}
	}
}

// TypedKey handles the arrow keys (slices), Page Up/Down (a tenth of the
// slices), Home and End, Escape (leave the measuring tool) and Delete or
// Backspace (remove the selected measurement); other keys go to OnKey.
func (v *ImageView) TypedKey(e *fyne.KeyEvent) {
	page := max(1, v.Frames()/10)
	switch e.Name {
	case fyne.KeyUp:
		v.Step(-1)
	case fyne.KeyDown:
		v.Step(1)
	case fyne.KeyPageUp:
		v.Step(-page)
	case fyne.KeyPageDown:
		v.Step(page)
	case fyne.KeyHome:
		v.SetFrame(0)
	case fyne.KeyEnd:
		v.SetFrame(v.Frames() - 1)
	default:
		if !v.measureKey(e) && v.OnKey != nil {
			v.OnKey(e)
		}
	}
}
