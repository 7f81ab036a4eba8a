// Package perturb makes perturbed copies of decoded samples, for the
// robustness test of `m3ret eval --perturb`: a copy rotated about its
// centre, cropped, mirrored left-right, with a gamma change and Gaussian
// noise, as a second acquisition or a re-framed export of the same image
// might differ from the first. Every slice of a volume and every frame of a
// video is changed the same way (the noise aside, drawn per pixel). The
// work is on the decoded pixels (Hounsfield units, MR signal, RGB values),
// before the model's own preprocessing, and is deterministic: the same
// Params give the same copy, and Ranges.Draw with a seeded generator gives
// the same Params.
package perturb

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/m3ret/viewer/library/media"
)

// Params is one perturbation.
type Params struct {
	Angle  float64 // rotation about the centre, degrees; positive turns the picture counter-clockwise on screen
	Crop   float64 // fraction of the width and of the height kept, (0, 1]
	X0, Y0 float64 // where the crop lies within the room left, 0 (left, top) to 1 (right, bottom)
	Mirror bool    // left-right
	Gamma  float64 // exponent applied over the sample's value range (1: none)
	Noise  float64 // sigma of the Gaussian noise, as a fraction of the sample's 1st-99th percentile range
	Seed   uint64  // the noise's seed
}

// Identity leaves a sample as it is.
var Identity = Params{Crop: 1, Gamma: 1}

// ErrParams is returned for parameters out of their ranges.
var ErrParams = errors.New("perturb: parameters out of range")

// Ranges are what Draw picks from.
type Ranges struct {
	CropMin, CropMax   float64 // fraction of each side kept
	MaxAngle           float64 // degrees either way
	GammaMin, GammaMax float64 // |log gamma| range, either way (a change of at least GammaMin)
	NoiseMin, NoiseMax float64 // noise sigma, fraction of the 1-99 percentile range
	Mirror             bool    // mirror every copy
}

// Default is the dev-set robustness test of issue 20: cropped to 70-90 %,
// mirrored, rotated by up to 20 degrees either way, gamma 1.2-1.5 or its
// inverse, noise of 2-5 % of the intensity range.
var Default = Ranges{CropMin: 0.7, CropMax: 0.9, MaxAngle: 20, GammaMin: math.Log(1.2), GammaMax: math.Log(1.5),
	NoiseMin: 0.02, NoiseMax: 0.05, Mirror: true}

// Draw picks one perturbation from the ranges.
func (r Ranges) Draw(rng *rand.Rand) Params {
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	g := uniform(r.GammaMin, r.GammaMax)
	if rng.IntN(2) == 0 {
		g = -g
	}
	return Params{
		Angle: uniform(-r.MaxAngle, r.MaxAngle),
		Crop:  uniform(r.CropMin, r.CropMax),
		X0:    rng.Float64(), Y0: rng.Float64(),
		Mirror: r.Mirror,
		Gamma:  math.Exp(g),
		Noise:  uniform(r.NoiseMin, r.NoiseMax),
		Seed:   rng.Uint64(),
	}
}

func (p Params) valid() bool {
	return p.Crop > 0 && p.Crop <= 1 && p.X0 >= 0 && p.X0 <= 1 && p.Y0 >= 0 && p.Y0 <= 1 &&
		p.Gamma > 0 && p.Noise >= 0 && !math.IsNaN(p.Angle) && !math.IsInf(p.Angle, 0)
}

// Apply returns the perturbed copy of s (s is left as it is): rotated,
// cropped and mirrored in one resampling (bilinear; what the rotation
// brings in from outside the picture takes the sample's lowest value, the
// background of a scan), then the gamma change over the sample's value
// range, then the noise.
func Apply(s *media.Sample, p Params) (*media.Sample, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("perturb: %w", err)
	}
	if !p.valid() {
		return nil, fmt.Errorf("%w: %+v", ErrParams, p)
	}
	lo, hi := valueRange(s.Data)
	out := *s
	out.Width = max(1, int(math.Round(p.Crop*float64(s.Width))))
	out.Height = max(1, int(math.Round(p.Crop*float64(s.Height))))
	out.Data = make([]float32, out.Width*out.Height*s.Channels*s.Frames)
	g := newGeometry(s.Width, s.Height, out.Width, out.Height, p)
	for t := 0; t < s.Frames; t++ {
		g.resample(s.Frame(t), out.Frame(t), s.Channels, float32(lo))
	}
	gamma(out.Data, lo, hi, p.Gamma)
	if p.Noise > 0 {
		l, h := media.Percentiles(s.Data, 1, 99)
		noise(out.Data, p.Noise*(h-l), p.Seed)
	}
	return &out, nil
}

// valueRange returns the lowest and highest value that is not NaN.
func valueRange(x []float32) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		f := float64(v)
		if !math.IsNaN(f) {
			lo, hi = math.Min(lo, f), math.Max(hi, f)
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// geometry maps a pixel of the copy back to the original: mirror within
// the crop, the crop's offset, then the rotation about the original's
// centre.
type geometry struct {
	w, h, ow, oh int
	x0, y0       float64
	cos, sin     float64
	mirror       bool
}

func newGeometry(w, h, ow, oh int, p Params) geometry {
	a := p.Angle * math.Pi / 180
	return geometry{w: w, h: h, ow: ow, oh: oh,
		x0: math.Round(p.X0 * float64(w-ow)), y0: math.Round(p.Y0 * float64(h-oh)),
		cos: math.Cos(a), sin: math.Sin(a), mirror: p.Mirror}
}

// source returns where pixel (u, v) of the copy comes from. Rotating the
// picture counter-clockwise on screen (y down) by a takes the point at
// (dx, dy) from the centre to (dx cos a + dy sin a, -dx sin a + dy cos a);
// the copy's pixel is read from the inverse of that.
func (g geometry) source(u, v int) (float64, float64) {
	x := float64(u)
	if g.mirror {
		x = float64(g.ow - 1 - u)
	}
	cx, cy := float64(g.w-1)/2, float64(g.h-1)/2
	dx, dy := g.x0+x-cx, g.y0+float64(v)-cy
	return cx + dx*g.cos - dy*g.sin, cy + dx*g.sin + dy*g.cos
}

// resample fills one frame of the copy (ch interleaved channels).
func (g geometry) resample(src, dst []float32, ch int, fill float32) {
	const eps = 1e-9
	for v := 0; v < g.oh; v++ {
		for u := 0; u < g.ow; u++ {
			sx, sy := g.source(u, v)
			o := (v*g.ow + u) * ch
			if sx < -eps || sy < -eps || sx > float64(g.w-1)+eps || sy > float64(g.h-1)+eps {
				for c := 0; c < ch; c++ {
					dst[o+c] = fill
				}
				continue
			}
			sx, sy = math.Max(0, sx), math.Max(0, sy)
			x0, y0 := min(int(sx), g.w-1), min(int(sy), g.h-1)
			x1, y1 := min(x0+1, g.w-1), min(y0+1, g.h-1)
			fx, fy := float32(sx-float64(x0)), float32(sy-float64(y0))
			for c := 0; c < ch; c++ {
				at := func(x, y int) float32 { return src[(y*g.w+x)*ch+c] }
				top := at(x0, y0)*(1-fx) + at(x1, y0)*fx
				bottom := at(x0, y1)*(1-fx) + at(x1, y1)*fx
				dst[o+c] = top*(1-fy) + bottom*fy
			}
		}
	}
}

// gamma maps v to lo + (hi-lo) ((v-lo)/(hi-lo))^g.
func gamma(x []float32, lo, hi, g float64) {
	if g == 1 || hi <= lo {
		return
	}
	for i, v := range x {
		f := math.Max(0, math.Min(1, (float64(v)-lo)/(hi-lo)))
		x[i] = float32(lo + (hi-lo)*math.Pow(f, g))
	}
}

// noise adds Gaussian noise of standard deviation sigma, from seed.
func noise(x []float32, sigma float64, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6d3372657420))
	for i := range x {
		x[i] += float32(sigma * rng.NormFloat64())
	}
}
