package viewer

import (
	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
)

// Axis says how a volume is cut into the slices a view scrolls through:
// the measurements' own (a measurement records the plane it is on).
type Axis = measure.Axis

// The three cuts of a volume. For an axial acquisition (orientation "LPS")
// Native is axial, FixRow coronal and FixColumn sagittal; the names shown
// come from the orientation, so a sagittal acquisition is named right too.
const (
	Native    = measure.Native    // the stored slices or frames
	FixRow    = measure.FixRow    // one image row of every slice: x across, slices up
	FixColumn = measure.FixColumn // one image column of every slice: y across, slices up
)

// plane is a sample seen as a stack of 2D slices along one axis. Reformatted
// slices are gathered into a buffer reused from slice to slice.
type plane struct {
	s    *media.Sample
	axis Axis
	buf  []float32
}

// size is the width and height of one slice and the number of slices.
func (p *plane) size() (w, h, n int) {
	s := p.s
	switch p.axis {
	case FixRow:
		return s.Width, s.Frames, s.Height
	case FixColumn:
		return s.Height, s.Frames, s.Width
	}
	return s.Width, s.Height, s.Frames
}

// channels is 3 for the native slices of colour samples, else 1.
func (p *plane) channels() int {
	if p.axis == Native {
		return p.s.Channels
	}
	return 1
}

// spacing is the size of a pixel of a slice in mm, across and down; a
// distance the source does not give counts as the in-plane pixel size (or
// 1 mm).
func (p *plane) spacing() (dx, dy float64) {
	sp := p.s.Spacing
	px := sp[0]
	if px <= 0 {
		px = 1
	}
	get := func(i int) float64 {
		if sp[i] > 0 {
			return sp[i]
		}
		return px
	}
	switch p.axis {
	case FixRow:
		return get(0), get(2)
	case FixColumn:
		return get(1), get(2)
	}
	return get(0), get(1)
}

// flipped tells whether slices run bottom to top on screen: reformats put
// the head up, and stacks go feet to head unless the orientation says not.
func (p *plane) flipped() bool {
	o := p.s.Meta.Orientation
	return p.axis != Native && (len(o) != 3 || o[2] == 'S')
}

// letters are the patient directions of screen right and screen down, 0
// when unknown.
func (p *plane) letters() (right, down byte) {
	o := p.s.Meta.Orientation
	if len(o) != 3 {
		return 0, 0
	}
	t := o[2]
	if p.flipped() {
		t = opposite(t)
	}
	switch p.axis {
	case FixRow:
		return o[0], t
	case FixColumn:
		return o[1], t
	}
	return o[0], o[1]
}

// normal is the patient direction a plane's slices advance along.
func (p *plane) normal() byte {
	o := p.s.Meta.Orientation
	if len(o) != 3 {
		return 0
	}
	return o[2-int(p.axis)]
}

// name is the anatomical name of the plane when the orientation is known.
func (p *plane) name() string {
	switch p.normal() {
	case 'S', 'I':
		return "Axial"
	case 'A', 'P':
		return "Coronal"
	case 'R', 'L':
		return "Sagittal"
	}
	if p.axis == Native && (p.s.Frames == 1 || p.s.Kind == media.Video) {
		return ""
	}
	return [...]string{"Slices", "Rows", "Columns"}[p.axis]
}

func opposite(c byte) byte {
	switch c {
	case 'R':
		return 'L'
	case 'L':
		return 'R'
	case 'A':
		return 'P'
	case 'P':
		return 'A'
	case 'S':
		return 'I'
	case 'I':
		return 'S'
	}
	return 0
}

// slice returns slice i: w*h*channels values, shared with the sample for
// native slices, else gathered into the plane's buffer.
func (p *plane) slice(i int) []float32 {
	s := p.s
	if p.axis == Native {
		return s.Frame(i)
	}
	w, h, _ := p.size()
	if cap(p.buf) < w*h {
		p.buf = make([]float32, w*h)
	}
	out := p.buf[:w*h]
	for r := range h {
		t := r
		if p.flipped() {
			t = h - 1 - r
		}
		row := out[r*w : (r+1)*w]
		if p.axis == FixRow {
			gatherRow(s, t, i, row)
		} else {
			gatherColumn(s, t, i, row)
		}
	}
	return out
}

// gatherRow copies row y of frame t (luma for colour).
func gatherRow(s *media.Sample, t, y int, out []float32) {
	c := s.Channels
	src := s.Data[(t*s.Height+y)*s.Width*c:]
	if c == 1 {
		copy(out, src[:s.Width])
		return
	}
	for x := range out {
		out[x] = luma(src[x*c:])
	}
}

// gatherColumn copies column x of frame t, top to bottom (luma for colour).
func gatherColumn(s *media.Sample, t, x int, out []float32) {
	c := s.Channels
	base := t * s.Height * s.Width
	for y := range out {
		o := ((base + y*s.Width) + x) * c
		if c == 1 {
			out[y] = s.Data[o]
		} else {
			out[y] = luma(s.Data[o:])
		}
	}
}

func luma(rgb []float32) float32 { return 0.299*rgb[0] + 0.587*rgb[1] + 0.114*rgb[2] }

// toStack converts a position on slice i of this plane to (x, y, t) in the
// sample.
func (p *plane) toStack(i, x, y int) (sx, sy, st int) {
	_, h, _ := p.size()
	if p.flipped() {
		y = h - 1 - y
	}
	switch p.axis {
	case FixRow:
		return x, i, y
	case FixColumn:
		return i, x, y
	}
	return x, y, i
}

// fromStack is the inverse of toStack: the slice of this plane holding
// (sx, sy, st) and the point's position in it.
func (p *plane) fromStack(sx, sy, st int) (i, x, y int) {
	_, h, _ := p.size()
	switch p.axis {
	case FixRow:
		i, x, y = sy, sx, st
	case FixColumn:
		i, x, y = sx, sy, st
	default:
		return st, sx, sy
	}
	if p.flipped() {
		y = h - 1 - y
	}
	return i, x, y
}
