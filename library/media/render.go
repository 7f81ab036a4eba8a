package media

import (
	"image"
	"image/color"
	"math"
	"slices"
)

// Percentiles returns the lo and hi percentiles (0..100) of values, ignoring
// NaNs, interpolating linearly between ranks (numpy's default). Above
// 65,536 values it works on an even, strided subsample.
func Percentiles(values []float32, lo, hi float64) (float64, float64) {
	step := len(values)/65536 + 1
	sub := make([]float32, 0, len(values)/step+1)
	for i := 0; i < len(values); i += step {
		if v := values[i]; !math.IsNaN(float64(v)) {
			sub = append(sub, v)
		}
	}
	if len(sub) == 0 {
		return 0, 1
	}
	slices.Sort(sub)
	at := func(p float64) float64 {
		pos := math.Max(0, math.Min(1, p/100)) * float64(len(sub)-1)
		i := int(pos)
		if i+1 >= len(sub) {
			return float64(sub[len(sub)-1])
		}
		f := pos - float64(i)
		return float64(sub[i]) + f*(float64(sub[i+1])-float64(sub[i]))
	}
	return at(lo), at(hi)
}

// AutoWindow returns the sample's own window if it has one, else a window
// spanning the 1st to 99th percentile of frame t.
func (s *Sample) AutoWindow(t int) Window {
	if s.Window != nil && s.Window.Width > 0 {
		return *s.Window
	}
	lo, hi := Percentiles(s.Frame(t), 1, 99)
	if hi <= lo {
		hi = lo + 1
	}
	return Window{Center: (lo + hi) / 2, Width: hi - lo}
}

// LUT maps values to 8-bit grey through a window, the DICOM linear function.
type LUT struct {
	lo, scale float64
}

// NewLUT builds the mapping for window w.
func NewLUT(w Window) LUT {
	width := math.Max(w.Width, 1e-6)
	return LUT{lo: w.Center - width/2, scale: 255 / width}
}

// Grey maps one value.
func (l LUT) Grey(v float32) uint8 {
	g := (float64(v) - l.lo) * l.scale
	switch {
	case g <= 0 || math.IsNaN(g):
		return 0
	case g >= 255:
		return 255
	}
	return uint8(g + 0.5)
}

// Render draws frame t through window w into an 8-bit image (grey or RGBA).
func (s *Sample) Render(t int, w Window) image.Image {
	lut := NewLUT(w)
	f := s.Frame(t)
	r := image.Rect(0, 0, s.Width, s.Height)
	if s.Channels == 1 {
		img := image.NewGray(r)
		for i, v := range f {
			img.Pix[i] = lut.Grey(v)
		}
		return img
	}
	img := image.NewRGBA(r)
	for i := 0; i < s.Width*s.Height; i++ {
		img.Pix[4*i] = lut.Grey(f[3*i])
		img.Pix[4*i+1] = lut.Grey(f[3*i+1])
		img.Pix[4*i+2] = lut.Grey(f[3*i+2])
		img.Pix[4*i+3] = 255
	}
	return img
}

// Thumbnail renders the middle frame with its auto window, scaled (area
// average) so that its longer side is at most side pixels.
func (s *Sample) Thumbnail(side int) image.Image {
	t := s.Frames / 2
	src := s.Render(t, s.AutoWindow(t))
	return Shrink(src, side)
}

// Shrink scales img down by area averaging so its longer side is at most
// side; smaller images are returned unchanged.
func Shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	f := float64(side) / float64(max(w, h))
	nw, nh := max(1, int(float64(w)*f)), max(1, int(float64(h)*f))
	out := image.NewRGBA(image.Rect(0, 0, nw, nh))
	for y := 0; y < nh; y++ {
		y0, y1 := y*h/nh, max((y+1)*h/nh, y*h/nh+1)
		for x := 0; x < nw; x++ {
			x0, x1 := x*w/nw, max((x+1)*w/nw, x*w/nw+1)
			var r, g, bl, n uint32
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					cr, cg, cb, _ := img.At(b.Min.X+xx, b.Min.Y+yy).RGBA()
					r, g, bl, n = r+cr, g+cg, bl+cb, n+1
				}
			}
			out.Set(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), 255})
		}
	}
	return out
}
