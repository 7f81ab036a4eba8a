// Package measure holds the measurements a reader draws on a slice — a
// length, an angle, an ellipse or a rectangle region — and the pure
// functions that give their values on a plane of a media.Sample: lengths
// in mm from the plane's pixel spacing (row and column spacing apart; the
// reformatted planes take the volume's spacing), angles in degrees (in
// physical space, so that anisotropic pixels do not bend them), and the
// mean, standard deviation, minimum, maximum and area of a region over the
// stored values after rescale (HU for CT). Without spacing a length is in
// pixels and the value says so. It depends on library/media only: no Fyne,
// no inference.
package measure

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Kind is the tool a measurement was drawn with.
type Kind string

// The measuring tools.
const (
	Length  Kind = "length"  // two points: the ends
	Angle   Kind = "angle"   // three points: one end, the vertex, the other end
	Ellipse Kind = "ellipse" // two points: opposite corners of its bounding box
	Rect    Kind = "rect"    // two points: opposite corners
)

// Kinds lists the tools in the order a menu shows them.
var Kinds = []Kind{Length, Angle, Ellipse, Rect}

// Points is the number of points a measurement of kind k has.
func (k Kind) Points() int {
	switch k {
	case Length, Ellipse, Rect:
		return 2
	case Angle:
		return 3
	}
	return 0
}

// Axis is how a volume is cut into the plane a measurement is on (the
// viewer's planes are these).
type Axis int

// The planes of a sample.
const (
	Native    Axis = iota // the stored slices or frames
	FixRow                // one image row of every slice: x across, slices up
	FixColumn             // one image column of every slice: y across, slices up
)

// Point is a position on a plane in pixel coordinates: pixel (i, j) covers
// [i, i+1) × [j, j+1), so its centre is (i+0.5, j+0.5).
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Measurement is one measurement as stored: what was drawn, where.
type Measurement struct {
	Kind   Kind    `json:"kind"`
	Axis   Axis    `json:"axis"`  // the plane it is on
	Frame  int     `json:"frame"` // the slice (or video frame) of that plane
	Points []Point `json:"points"`
	Label  string  `json:"label,omitempty"`
}

// ErrInvalid is returned for a measurement whose kind or points are wrong.
var ErrInvalid = errors.New("invalid measurement")

// Validate checks the kind and the number of points.
func (m Measurement) Validate() error {
	n := m.Kind.Points()
	if n == 0 {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, m.Kind)
	}
	if len(m.Points) != n {
		return fmt.Errorf("%w: %s has %d points, needs %d", ErrInvalid, m.Kind, len(m.Points), n)
	}
	for _, p := range m.Points {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			return fmt.Errorf("%w: point %v", ErrInvalid, p)
		}
	}
	return nil
}

// On reports whether m is drawn on slice frame of plane axis.
func (m Measurement) On(axis Axis, frame int) bool { return m.Axis == axis && m.Frame == frame }

// Clone returns a copy that shares nothing with m.
func (m Measurement) Clone() Measurement {
	m.Points = append([]Point(nil), m.Points...)
	return m
}

// CloneAll copies a list of measurements.
func CloneAll(ms []Measurement) []Measurement {
	if ms == nil {
		return nil
	}
	out := make([]Measurement, len(ms))
	for i, m := range ms {
		out[i] = m.Clone()
	}
	return out
}

// Marshal encodes a list of measurements as JSON, the document the
// library keeps per item.
func Marshal(ms []Measurement) ([]byte, error) {
	if ms == nil {
		ms = []Measurement{}
	}
	return json.Marshal(ms)
}

// Unmarshal decodes a document written by Marshal, dropping invalid
// measurements; an empty document is an empty list.
func Unmarshal(doc []byte) ([]Measurement, error) {
	if len(doc) == 0 {
		return nil, nil
	}
	var ms []Measurement
	if err := json.Unmarshal(doc, &ms); err != nil {
		return nil, fmt.Errorf("decode measurements: %w", err)
	}
	kept := ms[:0]
	for _, m := range ms {
		if m.Validate() == nil {
			kept = append(kept, m)
		}
	}
	return kept, nil
}
