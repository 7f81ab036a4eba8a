package viewer

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/m3ret/viewer/library/measure"
)

// Colours of the measurements: amber, the selected one sky blue, each on a
// dark outline so that it reads on white bone and black air alike.
var (
	measureColour  = color.RGBA{R: 255, G: 200, B: 40, A: 255}
	selectedColour = color.RGBA{R: 90, G: 200, B: 255, A: 255}
	outlineColour  = color.RGBA{A: 170}
	labelBack      = color.RGBA{A: 160}
)

// placeMeasures sizes the measurement layer like the slice and shows it
// while something is drawn on this slice.
func (v *ImageView) placeMeasures(a fyne.Size) {
	o := v.meas.overlay
	o.Move(fyne.NewPos(0, 0))
	o.Resize(a)
	show := false
	for j := range v.meas.list {
		show = show || v.visible(j)
	}
	o.Hidden = !show
	canvas.Refresh(o)
}

// measureInfo is the tool's part of the top line, with the warning that
// lengths are in pixels when the slice has no spacing.
func (v *ImageView) measureInfo() string {
	s := ""
	if v.meas.tool != "" {
		s = " · " + toolNames[v.meas.tool]
		if v.meas.pending >= 0 {
			s += ": click the end of the second arm"
		}
	}
	if v.pl == nil || (s == "" && v.meas.overlay.Hidden) {
		return s
	}
	if dx, dy := measure.Spacing(v.pl.s, v.pl.axis); dx <= 0 || dy <= 0 {
		s += " · px — no pixel spacing"
	}
	return s
}

// drawMeasures is the measurement layer's generator: the measurements of
// the slice shown, transparent elsewhere, at w×h pixels.
func (v *ImageView) drawMeasures(w, h int) image.Image {
	img := v.meas.img
	if img == nil || img.Rect.Dx() != max(w, 1) || img.Rect.Dy() != max(h, 1) {
		img = image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
		v.meas.img = img
	}
	clear(img.Pix)
	if v.pl != nil && w > 0 && h > 0 {
		v.paintMeasures(img)
	}
	return img
}

// withMeasures returns base (the slice as drawn) with the measurements on
// it, in a new image when there are any.
func (v *ImageView) withMeasures(base image.Image) image.Image {
	if v.pl == nil || !v.anyVisible() {
		return base
	}
	out := image.NewRGBA(base.Bounds())
	draw.Draw(out, out.Rect, base, base.Bounds().Min, draw.Src)
	v.paintMeasures(out)
	return out
}

func (v *ImageView) anyVisible() bool {
	for j := range v.meas.list {
		if v.visible(j) {
			return true
		}
	}
	return false
}

// paintMeasures draws the visible measurements over dst, scaled from the
// view's size to dst's.
func (v *ImageView) paintMeasures(dst *image.RGBA) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	vp := v.viewport(fyne.NewSize(float32(w), float32(h)))
	sc := 1.0
	if a := v.area(); a.Width > 1 {
		sc = float64(w) / float64(a.Width)
	}
	vp.panX, vp.panY = vp.panX*sc, vp.panY*sc
	paintMu.Lock() // font faces are not safe for concurrent use
	defer paintMu.Unlock()
	p := painter{dst: dst, vp: vp, sc: sc, face: labelFace(12 * sc)}
	for j, m := range v.meas.list {
		if !v.visible(j) {
			continue
		}
		col := measureColour
		if j == v.meas.sel {
			col = selectedColour
		}
		p.shape(m, col, j == v.meas.sel)
		p.label(m, v.meas.values[j].Lines(), col)
	}
}

// painter draws measurements on one image through one viewport.
type painter struct {
	dst  *image.RGBA
	vp   viewport
	sc   float64 // image pixels per Fyne unit
	face font.Face
}

type pt struct{ x, y float64 }

func (p painter) screen(q measure.Point) pt {
	x, y := p.vp.toScreen(q.X, q.Y)
	return pt{x, y}
}

// outline is the polyline of a measurement on screen, and whether it
// closes.
func (p painter) outline(m measure.Measurement) ([]pt, bool) {
	switch m.Kind {
	case measure.Rect:
		a, b := p.screen(m.Points[0]), p.screen(m.Points[1])
		return []pt{a, {b.x, a.y}, b, {a.x, b.y}}, true
	case measure.Ellipse:
		a, b := p.screen(m.Points[0]), p.screen(m.Points[1])
		cx, cy, rx, ry := (a.x+b.x)/2, (a.y+b.y)/2, math.Abs(b.x-a.x)/2, math.Abs(b.y-a.y)/2
		out := make([]pt, 72)
		for i := range out {
			t := 2 * math.Pi * float64(i) / float64(len(out))
			out[i] = pt{cx + rx*math.Cos(t), cy + ry*math.Sin(t)}
		}
		return out, true
	}
	out := make([]pt, len(m.Points))
	for i, q := range m.Points {
		out[i] = p.screen(q)
	}
	return out, false
}

// shape strokes the measurement over a dark outline, with its handles.
func (p painter) shape(m measure.Measurement, col color.RGBA, selected bool) {
	line, closed := p.outline(m)
	p.stroke(line, closed, 3.5*p.sc, outlineColour)
	p.stroke(line, closed, 1.5*p.sc, col)
	r := 2.5 * p.sc
	if selected {
		r = 4 * p.sc
	}
	for _, q := range m.Points {
		h := p.screen(q)
		p.fill([]pt{{h.x - r - p.sc, h.y - r - p.sc}, {h.x + r + p.sc, h.y - r - p.sc}, {h.x + r + p.sc, h.y + r + p.sc}, {h.x - r - p.sc, h.y + r + p.sc}}, outlineColour)
		p.fill([]pt{{h.x - r, h.y - r}, {h.x + r, h.y - r}, {h.x + r, h.y + r}, {h.x - r, h.y + r}}, col)
	}
}

// stroke draws a polyline width pixels wide: one quadrilateral a segment,
// all wound the same way, filled in one pass over their bounding box.
func (p painter) stroke(line []pt, closed bool, width float64, col color.RGBA) {
	n := len(line)
	if !closed {
		n--
	}
	var quads [][]pt
	for i := range max(n, 0) {
		a, b := line[i], line[(i+1)%len(line)]
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*width/2, dx/l*width/2
		ex, ey := dx/l*width/2, dy/l*width/2 // square caps close the joints
		quads = append(quads, []pt{{a.x - ex + nx, a.y - ey + ny}, {b.x + ex + nx, b.y + ey + ny}, {b.x + ex - nx, b.y + ey - ny}, {a.x - ex - nx, a.y - ey - ny}})
	}
	p.fill(nil, col, quads...)
}

// fill paints polygons (poly and more) in one colour, anti-aliased.
func (p painter) fill(poly []pt, col color.RGBA, more ...[]pt) {
	polys := more
	if poly != nil {
		polys = append(polys, poly)
	}
	if len(polys) == 0 {
		return
	}
	lo, hi := pt{math.Inf(1), math.Inf(1)}, pt{math.Inf(-1), math.Inf(-1)}
	for _, pg := range polys {
		for _, q := range pg {
			lo, hi = pt{math.Min(lo.x, q.x), math.Min(lo.y, q.y)}, pt{math.Max(hi.x, q.x), math.Max(hi.y, q.y)}
		}
	}
	box := image.Rect(int(math.Floor(lo.x)), int(math.Floor(lo.y)), int(math.Ceil(hi.x))+1, int(math.Ceil(hi.y))+1).Intersect(p.dst.Rect)
	if box.Empty() {
		return
	}
	r := vector.NewRasterizer(box.Dx(), box.Dy())
	for _, pg := range polys {
		r.MoveTo(float32(pg[0].x-float64(box.Min.X)), float32(pg[0].y-float64(box.Min.Y)))
		for _, q := range pg[1:] {
			r.LineTo(float32(q.x-float64(box.Min.X)), float32(q.y-float64(box.Min.Y)))
		}
		r.ClosePath()
	}
	r.Draw(p.dst, box, image.NewUniform(col), image.Point{})
}

// label writes the value beside the measurement on a dark box: past the
// end of a length, at an angle's vertex, right of a region.
func (p painter) label(m measure.Measurement, lines []string, col color.RGBA) {
	line, _ := p.outline(m)
	at := line[len(line)-1]
	switch m.Kind {
	case measure.Angle:
		at = line[1]
	case measure.Ellipse, measure.Rect:
		a, b := p.screen(m.Points[0]), p.screen(m.Points[1])
		at = pt{math.Max(a.x, b.x), math.Min(a.y, b.y)}
	}
	met := p.face.Metrics()
	lh := (met.Height + met.Height/8).Ceil()
	wid := 0
	for _, s := range lines {
		wid = max(wid, font.MeasureString(p.face, s).Ceil())
	}
	pad := int(4 * p.sc)
	x := int(at.x + 8*p.sc)
	y := int(at.y + 4*p.sc)
	W, H := p.dst.Rect.Dx(), p.dst.Rect.Dy()
	if x+wid+2*pad > W {
		x = max(0, int(at.x-8*p.sc)-wid-2*pad)
	}
	y = max(0, min(y, H-lh*len(lines)-2*pad))
	back := image.Rect(x, y, x+wid+2*pad, y+lh*len(lines)+2*pad)
	draw.Draw(p.dst, back, image.NewUniform(labelBack), image.Point{}, draw.Over)
	d := font.Drawer{Dst: p.dst, Src: image.NewUniform(col), Face: p.face}
	for i, s := range lines {
		d.Dot = fixed.P(x+pad, y+pad+i*lh+met.Ascent.Ceil())
		d.DrawString(s)
	}
}

var (
	fontOnce  sync.Once
	fontErr   error
	labelFont *opentype.Font
	faceMu    sync.Mutex
	faces     = map[int]font.Face{}
	paintMu   sync.Mutex
)

// labelFace is Go Regular at size pixels (kept per whole size).
func labelFace(size float64) font.Face {
	fontOnce.Do(func() { labelFont, fontErr = opentype.Parse(goregular.TTF) })
	faceMu.Lock()
	defer faceMu.Unlock()
	px := max(6, int(math.Round(size)))
	if f, ok := faces[px]; ok {
		return f
	}
	var f font.Face
	if fontErr == nil {
		f, fontErr = opentype.NewFace(labelFont, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	}
	if f == nil { // the embedded font never fails to parse; just in case
		f = basicfont.Face7x13
	}
	faces[px] = f
	return f
}
