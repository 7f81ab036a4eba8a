package measure

import (
	"fmt"
	"math"
)

// Value is what a measurement measures on a plane.
type Value struct {
	Kind Kind
	// Length is the distance between the ends (Length), in Unit.
	Length float64
	// Degrees is the angle at the vertex (Angle), 0 to 180.
	Degrees float64
	// Region statistics (Ellipse, Rect) over the N pixels whose centres lie
	// inside: mean, standard deviation (sample, n−1), minimum and maximum
	// in ValueUnit; Area is the shape's area in Unit².
	N                  int
	Mean, SD, Min, Max float64
	Area               float64
	// Width and Height are the sides of a region's box, in Unit.
	Width, Height float64
	Unit          string // "mm", or "px" when the plane has no spacing
	Calibrated    bool   // false: Unit is "px"
	ValueUnit     string // "HU" for CT, "" otherwise
	Err           error  // the measurement is invalid
}

// Measure gives the value of m on plane p.
func Measure(p Plane, m Measurement) Value {
	v := Value{Kind: m.Kind, Unit: "px", Calibrated: p.Calibrated(), ValueUnit: p.Unit}
	if v.Calibrated {
		v.Unit = "mm"
	}
	if v.Err = m.Validate(); v.Err != nil {
		return v
	}
	switch m.Kind {
	case Length:
		v.Length = p.distance(m.Points[0], m.Points[1])
	case Angle:
		v.Degrees = p.angle(m.Points[0], m.Points[1], m.Points[2])
	case Ellipse, Rect:
		p.region(m, &v)
	}
	return v
}

// distance is the physical distance between a and b.
func (p Plane) distance(a, b Point) float64 {
	sx, sy := p.scale()
	return math.Hypot((b.X-a.X)*sx, (b.Y-a.Y)*sy)
}

// angle is the angle at vertex b between the arms to a and c, in degrees,
// measured in physical space.
func (p Plane) angle(a, b, c Point) float64 {
	sx, sy := p.scale()
	ux, uy := (a.X-b.X)*sx, (a.Y-b.Y)*sy
	wx, wy := (c.X-b.X)*sx, (c.Y-b.Y)*sy
	if (ux == 0 && uy == 0) || (wx == 0 && wy == 0) {
		return 0
	}
	return math.Abs(math.Atan2(ux*wy-uy*wx, ux*wx+uy*wy)) * 180 / math.Pi
}

// Inside reports whether the point (x, y) lies inside the region m (an
// Ellipse or a Rect): the ellipse inscribed in the box of its two points,
// or the box itself, edges included.
func Inside(m Measurement, x, y float64) bool {
	a, b := m.Points[0], m.Points[1]
	x0, x1 := min(a.X, b.X), max(a.X, b.X)
	y0, y1 := min(a.Y, b.Y), max(a.Y, b.Y)
	if m.Kind == Rect {
		return x >= x0 && x <= x1 && y >= y0 && y <= y1
	}
	rx, ry := (x1-x0)/2, (y1-y0)/2
	if rx <= 0 || ry <= 0 {
		return false
	}
	dx, dy := (x-(x0+x1)/2)/rx, (y-(y0+y1)/2)/ry
	return dx*dx+dy*dy <= 1
}

// region fills the statistics of an Ellipse or Rect over the pixels whose
// centres lie inside (Welford's running mean and variance, in float64).
func (p Plane) region(m Measurement, v *Value) {
	a, b := m.Points[0], m.Points[1]
	w, h := math.Abs(b.X-a.X), math.Abs(b.Y-a.Y)
	sx, sy := p.scale()
	v.Width, v.Height = w*sx, h*sy
	v.Area = w * h * sx * sy
	if m.Kind == Ellipse {
		v.Area *= math.Pi / 4
	}
	xa, xb := clampPix(min(a.X, b.X), p.Width), clampPix(max(a.X, b.X), p.Width)
	ya, yb := clampPix(min(a.Y, b.Y), p.Height), clampPix(max(a.Y, b.Y), p.Height)
	var mean, m2 float64
	for y := ya; y <= yb && y < p.Height; y++ {
		for x := xa; x <= xb && x < p.Width; x++ {
			if !Inside(m, float64(x)+0.5, float64(y)+0.5) {
				continue
			}
			val := float64(p.Values[y*p.Width+x])
			v.N++
			if v.N == 1 {
				v.Min, v.Max = val, val
			}
			v.Min, v.Max = min(v.Min, val), max(v.Max, val)
			d := val - mean
			mean += d / float64(v.N)
			m2 += d * (val - mean)
		}
	}
	v.Mean = mean
	if v.N > 1 {
		v.SD = math.Sqrt(m2 / float64(v.N-1))
	}
}

// clampPix is the pixel holding coordinate f, kept within [0, n].
func clampPix(f float64, n int) int {
	return max(0, min(n, int(math.Floor(f))))
}

// String is the value as a label: "23.4 mm", "37.5°", "mean 41.2 HU,
// SD 5.1, min 30, max 52, area 120 mm²"; a length or an area without
// spacing reads "… px (no pixel spacing)".
func (v Value) String() string {
	if v.Err != nil {
		return "invalid"
	}
	switch v.Kind {
	case Length:
		return fmt.Sprintf("%s %s%s", decimal(v.Length), v.Unit, v.noSpacing())
	case Angle:
		return decimal(v.Degrees) + "°"
	case Ellipse, Rect:
		if v.N == 0 {
			return "no pixels inside" + v.noSpacing()
		}
		u := ""
		if v.ValueUnit != "" {
			u = " " + v.ValueUnit
		}
		return fmt.Sprintf("mean %s%s, SD %s, min %s, max %s, area %s %s²%s",
			decimal(v.Mean), u, decimal(v.SD), decimal(v.Min), decimal(v.Max), decimal(v.Area), v.Unit, v.noSpacing())
	}
	return ""
}

func (v Value) noSpacing() string {
	if v.Calibrated || v.Kind == Angle {
		return ""
	}
	return " (no pixel spacing)"
}

// decimal prints one decimal below 1000, none above.
func decimal(f float64) string {
	if math.Abs(f) >= 1000 {
		return fmt.Sprintf("%.0f", f)
	}
	s := fmt.Sprintf("%.1f", f)
	if s == "-0.0" {
		s = "0.0"
	}
	return s
}

// Lines is the value as a label of a few short lines: "23.4 mm"; "37.5°";
// "mean 41.2 HU, SD 5.1" / "min 30.0, max 52.0" / "area 120.0 mm²". A
// length or area without spacing ends in "px — no pixel spacing".
func (v Value) Lines() []string {
	warn := ""
	if !v.Calibrated {
		warn = " — no pixel spacing"
	}
	switch {
	case v.Err != nil:
		return []string{"invalid"}
	case v.Kind == Length:
		return []string{fmt.Sprintf("%s %s%s", decimal(v.Length), v.Unit, warn)}
	case v.Kind == Angle:
		return []string{decimal(v.Degrees) + "°"}
	case v.N == 0:
		return []string{"no pixels inside"}
	}
	u := ""
	if v.ValueUnit != "" {
		u = " " + v.ValueUnit
	}
	return []string{
		fmt.Sprintf("mean %s%s, SD %s", decimal(v.Mean), u, decimal(v.SD)),
		fmt.Sprintf("min %s, max %s", decimal(v.Min), decimal(v.Max)),
		fmt.Sprintf("area %s %s²%s", decimal(v.Area), v.Unit, warn),
	}
}
