package viewer

import (
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/m3ret/viewer/library/measure"
)

// measureRune picks a tool on its key (l length, g angle, e ellipse, b
// rectangle; the same key again leaves it); it reports whether r was one.
func (v *ImageView) measureRune(r rune) bool {
	k, ok := toolKeys[r]
	if !ok {
		return false
	}
	if v.meas.tool == k {
		k = ""
	}
	v.SetTool(k)
	return true
}

// measureKey handles Escape (leave the tool, drop an angle half drawn,
// unselect) and Delete or Backspace (remove the selected measurement).
func (v *ImageView) measureKey(e *fyne.KeyEvent) bool {
	switch e.Name {
	case fyne.KeyEscape:
		if v.meas.tool == "" && v.meas.sel < 0 && v.meas.pending < 0 {
			return false
		}
		v.meas.sel = -1
		v.SetTool("")
		v.measuresChanged(false)
	case fyne.KeyDelete, fyne.KeyBackspace:
		if v.meas.sel < 0 {
			return false
		}
		v.DeleteMeasurement(v.Selected())
	default:
		return false
	}
	return true
}

// measureDragged draws a measurement with the tool, or moves the handle a
// left-drag starts on; it reports whether the drag is one of those (else
// the drag windows).
func (v *ImageView) measureDragged(e *fyne.DragEvent) bool {
	d := &v.meas.drag
	if !d.active {
		d.active, d.mode = true, v.startMeasureDrag(e.Position.Subtract(e.Dragged))
	}
	switch d.mode {
	case dragEdit:
		v.meas.list[d.index].Points[d.handle] = v.imagePoint(e.Position)
		v.revalue(d.index)
		v.redraw()
	case dragDraw:
		m := &v.meas.list[d.index]
		m.Points[d.handle] = v.imagePoint(e.Position)
		if m.Kind == measure.Angle && d.handle == 1 {
			m.Points[2] = m.Points[1]
		}
		v.revalue(d.index)
		v.redraw()
	default:
		return false
	}
	return true
}

// startMeasureDrag decides what a left-drag from p does: move the handle
// under it, give a half-drawn angle its second arm, or draw with the tool.
func (v *ImageView) startMeasureDrag(p fyne.Position) int {
	d := &v.meas.drag
	if v.pl == nil || v.drag.button == desktop.MouseButtonSecondary {
		return dragNone
	}
	if v.meas.pending >= 0 {
		d.index, d.handle = v.meas.pending, 2
		return dragDraw
	}
	if j, h, ok := v.hitHandle(p); ok {
		d.index, d.handle, v.meas.sel = j, h, j
		return dragEdit
	}
	if v.meas.tool == "" {
		return dragNone
	}
	at := v.imagePoint(p)
	m := measure.Measurement{Kind: v.meas.tool, Axis: v.pl.axis, Frame: v.frame}
	for range v.meas.tool.Points() {
		m.Points = append(m.Points, at)
	}
	v.meas.list = append(v.meas.list, m)
	v.meas.values = append(v.meas.values, measure.Value{Kind: m.Kind})
	d.index, d.handle = len(v.meas.list)-1, 1
	v.meas.sel = d.index
	return dragDraw
}

// measureDragEnd finishes a drawing or an edit; it reports whether the
// drag was one.
func (v *ImageView) measureDragEnd() bool {
	d := v.meas.drag
	v.meas.drag = measureDrag{}
	switch d.mode {
	case dragEdit:
		v.measuresChanged(true)
	case dragDraw:
		v.finishDrawing(d)
	default:
		return false
	}
	return true
}

// finishDrawing keeps a measurement just drawn, unless it is too small to
// be meant; an angle's first arm waits for the second.
func (v *ImageView) finishDrawing(d measureDrag) {
	m := v.meas.list[d.index]
	a, b := v.ScreenPos(m.Points[d.handle-1].X, m.Points[d.handle-1].Y), v.ScreenPos(m.Points[d.handle].X, m.Points[d.handle].Y)
	if math.Hypot(float64(b.X-a.X), float64(b.Y-a.Y)) < 3 {
		if d.handle == 1 { // a click, not a drawing
			v.removeAt(d.index)
		}
		return
	}
	if m.Kind == measure.Angle && d.handle == 1 {
		v.meas.pending = d.index
		v.redraw()
		return
	}
	v.meas.pending = -1
	v.measuresChanged(true)
}

// removeAt drops list entry j without telling anyone (it was never shown
// as a measurement).
func (v *ImageView) removeAt(j int) {
	v.meas.list = append(v.meas.list[:j], v.meas.list[j+1:]...)
	v.meas.values = append(v.meas.values[:j], v.meas.values[j+1:]...)
	v.meas.sel, v.meas.pending = -1, -1
	v.redraw()
}

// cancelPending drops an angle that has only its first arm.
func (v *ImageView) cancelPending() {
	if j := v.meas.pending; j >= 0 {
		v.removeAt(j)
	}
}

// measureTapped ends a half-drawn angle at p, or selects the measurement
// at p (a click elsewhere unselects); it reports whether the click was
// taken.
func (v *ImageView) measureTapped(p fyne.Position) bool {
	if v.pl == nil {
		return false
	}
	if j := v.meas.pending; j >= 0 {
		v.meas.list[j].Points[2] = v.imagePoint(p)
		v.revalue(j)
		v.meas.pending = -1
		v.measuresChanged(true)
		return true
	}
	j := v.hitShape(p)
	if j == v.meas.sel && j < 0 {
		return false
	}
	v.meas.sel = j
	v.measuresChanged(false)
	return j >= 0
}

// measureMoved lets the second arm of a half-drawn angle follow the
// pointer.
func (v *ImageView) measureMoved(p fyne.Position) {
	if j := v.meas.pending; j >= 0 {
		v.meas.list[j].Points[2] = v.imagePoint(p)
		v.revalue(j)
		v.redraw()
	}
}

// Drag is a left-drag from slice point a to b in steps moves, as the
// desktop driver reports one: what the measuring tools take. For scripts
// (the window's --measure) and tests.
func (v *ImageView) Drag(a, b measure.Point, steps int) {
	from, to := v.ScreenPos(a.X, a.Y), v.ScreenPos(b.X, b.Y)
	last := from
	for i := 1; i <= steps; i++ {
		f := float32(i) / float32(steps)
		p := fyne.NewPos(from.X+(to.X-from.X)*f, from.Y+(to.Y-from.Y)*f)
		v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p}, Dragged: fyne.NewDelta(p.X-last.X, p.Y-last.Y)})
		last = p
	}
	v.DragEnd()
}
