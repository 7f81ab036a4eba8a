package viewer

import (
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
)

// Keys of the measuring tools (TypedRune), and what they draw.
var toolKeys = map[rune]measure.Kind{
	'l': measure.Length, 'L': measure.Length,
	'g': measure.Angle, 'G': measure.Angle,
	'e': measure.Ellipse, 'E': measure.Ellipse,
	'b': measure.Rect, 'B': measure.Rect,
}

var toolNames = map[measure.Kind]string{measure.Length: "length", measure.Angle: "angle",
	measure.Ellipse: "ellipse", measure.Rect: "rectangle"}

// Measured is one of an item's measurements with its value on its plane.
type Measured struct {
	measure.Measurement
	Value measure.Value
}

// measureState is what an ImageView knows of measurements: all of the
// item's (each on its own plane and slice), the tool in use, the one
// selected, and the drag under way.
type measureState struct {
	tool    measure.Kind
	list    []measure.Measurement
	values  []measure.Value
	sel     int // index in list, -1 for none
	pending int // an angle waiting for its second arm, -1 for none
	drag    measureDrag
	planes  map[[2]int]*measure.Plane // by (axis, slice)
	overlay *canvas.Raster
	img     *image.RGBA    // the layer's buffer, reused
	lists   []*MeasureList // side panels following this view
	// onChange is the containers' hook (a volume's planes share a list).
	onChange func()
}

// measureDrag is a left-drag that draws or edits a measurement.
type measureDrag struct {
	active bool // decided at the drag's first event
	mode   int  // dragNone, dragDraw, dragEdit
	index  int  // the measurement
	handle int  // the point moved
}

const (
	dragNone = iota
	dragDraw
	dragEdit
)

// hitRadius is how close (Fyne units) a click must come to a handle.
const hitRadius = 8

func (m *measureState) init(v *ImageView) {
	m.sel, m.pending = -1, -1
	m.overlay = canvas.NewRaster(v.drawMeasures)
	m.overlay.ScaleMode = canvas.ImageScalePixels
	m.overlay.Hide()
}

// SetTool picks the measuring tool a left-drag draws with (Length, Angle,
// Ellipse, Rect); "" leaves it (a left-drag windows again).
func (v *ImageView) SetTool(k measure.Kind) {
	v.cancelPending()
	v.meas.tool = k
	if k != "" {
		v.regionMode = false
	}
	v.redraw()
}

// Tool is the measuring tool in use, "" for none.
func (v *ImageView) Tool() measure.Kind { return v.meas.tool }

// SetMeasurements shows an item's measurements (each on its plane and
// slice) without calling OnMeasurementsChanged.
func (v *ImageView) SetMeasurements(ms []measure.Measurement) {
	v.meas.pending, v.meas.sel = -1, -1
	v.meas.list = nil
	for _, m := range ms {
		if m.Validate() == nil {
			v.meas.list = append(v.meas.list, m.Clone())
		}
	}
	v.revalueAll()
	v.measuresChanged(false)
}

// Measurements returns a copy of the item's measurements (an angle still
// being drawn left out).
func (v *ImageView) Measurements() []measure.Measurement {
	out := []measure.Measurement{}
	for i, m := range v.meas.list {
		if i != v.meas.pending {
			out = append(out, m.Clone())
		}
	}
	return out
}

// Measured returns the measurements with their values, in the order of
// Measurements.
func (v *ImageView) Measured() []Measured {
	out := []Measured{}
	for i, m := range v.meas.list {
		if i != v.meas.pending {
			out = append(out, Measured{Measurement: m.Clone(), Value: v.meas.values[i]})
		}
	}
	return out
}

// Selected is the index (in Measurements) of the measurement selected, -1
// for none.
func (v *ImageView) Selected() int { return v.publicIndex(v.meas.sel) }

// DeleteMeasurement removes measurement i (an index in Measurements).
func (v *ImageView) DeleteMeasurement(i int) {
	j := v.listIndex(i)
	if j < 0 {
		return
	}
	v.meas.list = append(v.meas.list[:j], v.meas.list[j+1:]...)
	v.meas.values = append(v.meas.values[:j], v.meas.values[j+1:]...)
	v.meas.sel = -1
	if v.meas.pending > j {
		v.meas.pending--
	}
	v.measuresChanged(true)
}

// ScreenPos is where slice pixel coordinates (x, y) fall in the view.
func (v *ImageView) ScreenPos(x, y float64) fyne.Position {
	if v.pl == nil {
		return fyne.Position{}
	}
	X, Y := v.viewport(v.area()).toScreen(x, y)
	return fyne.NewPos(float32(X), float32(Y))
}

// publicIndex maps an index of the list to one of Measurements.
func (v *ImageView) publicIndex(j int) int {
	if j < 0 || j == v.meas.pending {
		return -1
	}
	if v.meas.pending >= 0 && j > v.meas.pending {
		return j - 1
	}
	return j
}

// listIndex maps an index of Measurements to one of the list.
func (v *ImageView) listIndex(i int) int {
	for j := range v.meas.list {
		if v.publicIndex(j) == i && i >= 0 {
			return j
		}
	}
	return -1
}

// measuresChanged redraws, tells the side panels and the containers, and
// (notify) the owner.
func (v *ImageView) measuresChanged(notify bool) {
	v.redraw()
	rows := v.Measured()
	for _, l := range v.meas.lists {
		l.show(v, rows, v.Selected())
	}
	if !notify {
		return
	}
	if v.meas.onChange != nil {
		v.meas.onChange()
	}
	if v.OnMeasurementsChanged != nil {
		v.OnMeasurementsChanged(v.Measurements())
	}
}

// plane returns the values of slice frame of axis, cut once and kept.
func (v *ImageView) measurePlane(axis measure.Axis, frame int) *measure.Plane {
	key := [2]int{int(axis), frame}
	if p, ok := v.meas.planes[key]; ok {
		return p
	}
	if len(v.meas.planes) >= 6 || v.meas.planes == nil {
		v.meas.planes = map[[2]int]*measure.Plane{}
	}
	p, err := measure.PlaneOf(v.pl.s, axis, frame)
	if err != nil {
		return nil
	}
	v.meas.planes[key] = &p
	return &p
}

// revalue computes the value of measurement j.
func (v *ImageView) revalue(j int) {
	m := v.meas.list[j]
	var val measure.Value
	if v.pl == nil {
		val = measure.Value{Kind: m.Kind}
	} else if p := v.measurePlane(m.Axis, m.Frame); p != nil {
		val = measure.Measure(*p, m)
	} else {
		val = measure.Value{Kind: m.Kind, Err: measure.ErrInvalid}
	}
	v.meas.values[j] = val
}

func (v *ImageView) revalueAll() {
	v.meas.values = make([]measure.Value, len(v.meas.list))
	for j := range v.meas.list {
		v.revalue(j)
	}
}

// visible reports whether measurement j is on the slice shown.
func (v *ImageView) visible(j int) bool {
	return v.pl != nil && v.meas.list[j].On(v.pl.axis, v.frame)
}

// imagePoint is the slice position under view position p, kept within the
// slice.
func (v *ImageView) imagePoint(p fyne.Position) measure.Point {
	vp := v.viewport(v.area())
	x, y := vp.toImage(float64(p.X), float64(p.Y))
	return measure.Point{X: math.Max(0, math.Min(float64(vp.iw), x)), Y: math.Max(0, math.Min(float64(vp.ih), y))}
}

// hitHandle is the visible measurement and point nearest p within
// hitRadius, the selected one first.
func (v *ImageView) hitHandle(p fyne.Position) (index, handle int, ok bool) {
	best := float32(hitRadius)
	order := v.hitOrder()
	for _, j := range order {
		for h, q := range v.meas.list[j].Points {
			s := v.ScreenPos(q.X, q.Y)
			if d := float32(math.Hypot(float64(s.X-p.X), float64(s.Y-p.Y))); d <= best {
				best, index, handle, ok = d, j, h, true
			}
		}
		if ok && j == v.meas.sel {
			return index, handle, ok
		}
	}
	return index, handle, ok
}

// hitOrder lists the visible measurements, the selected first, then the
// newest.
func (v *ImageView) hitOrder() []int {
	var out []int
	if v.meas.sel >= 0 && v.visible(v.meas.sel) {
		out = append(out, v.meas.sel)
	}
	for j := len(v.meas.list) - 1; j >= 0; j-- {
		if j != v.meas.sel && j != v.meas.pending && v.visible(j) {
			out = append(out, j)
		}
	}
	return out
}

// hitShape is the visible measurement drawn at p: near a line, or inside a
// region.
func (v *ImageView) hitShape(p fyne.Position) int {
	if j, _, ok := v.hitHandle(p); ok {
		return j
	}
	q := v.imagePoint(p)
	for _, j := range v.hitOrder() {
		m := v.meas.list[j]
		switch m.Kind {
		case measure.Ellipse, measure.Rect:
			if measure.Inside(measure.Measurement{Kind: measure.Rect, Points: m.Points}, q.X, q.Y) {
				return j
			}
		default:
			for k := 1; k < len(m.Points); k++ {
				if v.segmentDistance(p, m.Points[k-1], m.Points[k]) <= hitRadius/2 {
					return j
				}
			}
		}
	}
	return -1
}

// segmentDistance is the distance (Fyne units) from p to the segment a-b.
func (v *ImageView) segmentDistance(p fyne.Position, a, b measure.Point) float64 {
	A, B := v.ScreenPos(a.X, a.Y), v.ScreenPos(b.X, b.Y)
	dx, dy := float64(B.X-A.X), float64(B.Y-A.Y)
	px, py := float64(p.X-A.X), float64(p.Y-A.Y)
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, (px*dx+py*dy)/l))
	}
	return math.Hypot(px-t*dx, py-t*dy)
}

// resetMeasures forgets the measurements when the view gets another
// sample (the owner sets the new item's), and the slices cut for them.
func (v *ImageView) resetMeasures(s *media.Sample) {
	v.meas.planes = nil
	v.meas.drag = measureDrag{}
	if v.pl != nil && v.pl.s == s {
		v.cancelPending()
		return
	}
	v.meas.list, v.meas.values, v.meas.sel, v.meas.pending = nil, nil, -1, -1
	for _, l := range v.meas.lists {
		l.show(v, nil, -1)
	}
}
