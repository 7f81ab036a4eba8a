package measure

import (
	"fmt"

	"github.com/m3ret/viewer/library/media"
)

// Plane is one slice of a sample as a measurement sees it: one value a
// pixel (the stored value after rescale; the luma for colour), row by row,
// and the size of a pixel in mm across (DX) and down (DY), zero when the
// source does not give it.
type Plane struct {
	Width, Height int
	Values        []float32
	DX, DY        float64
	// Unit is the unit of the values: "HU" for CT, "" for stored values
	// without a physical unit.
	Unit string
}

// Calibrated tells whether the plane's pixel size is known both ways, so
// that lengths and areas are in mm.
func (p Plane) Calibrated() bool { return p.DX > 0 && p.DY > 0 }

// scale is the size of a pixel used for distances: mm when calibrated,
// else 1 × 1 (pixels).
func (p Plane) scale() (sx, sy float64) {
	if p.Calibrated() {
		return p.DX, p.DY
	}
	return 1, 1
}

// Spacing is the pixel size in mm of a plane of s, across and down: the
// in-plane spacing for Native, the column (or row) spacing and the slice
// spacing for the reformats. A size the source does not give is zero.
func Spacing(s *media.Sample, axis Axis) (dx, dy float64) {
	sp := s.Spacing
	switch axis {
	case FixRow:
		return sp[0], sp[2]
	case FixColumn:
		return sp[1], sp[2]
	}
	return sp[0], sp[1]
}

// ValueUnit is the unit of a sample's values: "HU" for CT.
func ValueUnit(s *media.Sample) string {
	if s.Meta.Modality == "CT" {
		return "HU"
	}
	return ""
}

// PlaneOf cuts slice index of s along axis, as the viewer shows it:
// reformats put the head up (slices run bottom to top unless the
// orientation says the stack goes head to feet); MONOCHROME1 values, which
// the readers invert, are given back as stored.
func PlaneOf(s *media.Sample, axis Axis, index int) (Plane, error) {
	if err := s.Validate(); err != nil {
		return Plane{}, err
	}
	w, h, n := size(s, axis)
	if index < 0 || index >= n {
		return Plane{}, fmt.Errorf("slice %d of %d", index, n)
	}
	p := Plane{Width: w, Height: h, Values: make([]float32, w*h), Unit: ValueUnit(s)}
	p.DX, p.DY = Spacing(s, axis)
	flip := flipped(s, axis)
	for y := range h {
		t := y
		if flip {
			t = h - 1 - y
		}
		for x := range w {
			sx, sy, st := x, y, index
			switch axis {
			case FixRow:
				sx, sy, st = x, index, t
			case FixColumn:
				sx, sy, st = index, x, t
			}
			p.Values[y*w+x] = grey(s, sx, sy, st)
		}
	}
	return p, nil
}

// size is the width and height of one slice of axis and the number of
// slices.
func size(s *media.Sample, axis Axis) (w, h, n int) {
	switch axis {
	case FixRow:
		return s.Width, s.Frames, s.Height
	case FixColumn:
		return s.Height, s.Frames, s.Width
	}
	return s.Width, s.Height, s.Frames
}

// flipped tells whether a plane's rows run from the last slice to the
// first (the reformats of a feet-to-head stack, head up).
func flipped(s *media.Sample, axis Axis) bool {
	o := s.Meta.Orientation
	return axis != Native && (len(o) != 3 || o[2] == 'S')
}

// grey is the stored value at (x, y) of frame t: the luma for colour.
func grey(s *media.Sample, x, y, t int) float32 {
	o := ((t*s.Height+y)*s.Width + x) * s.Channels
	if s.Channels == 3 {
		d := s.Data[o : o+3]
		return 0.299*d[0] + 0.587*d[1] + 0.114*d[2]
	}
	if s.Meta.Photometric == "MONOCHROME1" {
		return -s.Data[o]
	}
	return s.Data[o]
}
