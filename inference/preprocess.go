package inference

import (
	"math"

	"github.com/m3ret/viewer/library/media"
)

// Preprocess turns a sample into one item of the model's input tensor, laid
// out [C][T][H][W]: frames chosen along T as the manifest's time mapping
// says, channels matched to the model (luma for grey models, grey repeated
// for RGB models), each frame resized to H×W (area average when shrinking,
// linear when enlarging), then intensities normalised for the modality.
// It makes the whole sample one input, whatever AverageFrames says.
func Preprocess(s *media.Sample, m *Manifest) []float32 {
	return PreprocessWindow(s, m, 0, 1)
}

// Windows is the number of inputs a sample is embedded as: the manifest's
// AverageFrames for its kind, at most one per T frames the sample has
// (and 1 for 2D images or when the manifest does not average).
func Windows(s *media.Sample, m *Manifest) int {
	n := m.AverageFrames[string(s.Kind)]
	if s.Kind == media.Image2D || n <= 1 {
		return 1
	}
	return max(1, min(n, (s.Frames+m.T()-1)/m.T()))
}

// PreprocessWindow is Preprocess for input w of n (see Windows): the time
// mapping chooses n·T frame positions along the sample and this input takes
// the w-th run of T of them; the intensities are normalised over the input.
func PreprocessWindow(s *media.Sample, m *Manifest, w, n int) []float32 {
	C, T, H, W := m.C(), m.T(), m.H(), m.W()
	out := make([]float32, C*T*H*W)
	rx, ry := resampler(s.Width, W), resampler(s.Height, H)
	plane := make([]float32, s.Width*s.Height)
	for t, pick := range timeMapping(s, m, n*T)[w*T : (w+1)*T] {
		for c := 0; c < C; c++ {
			if pick.frame < 0 {
				continue // padding stays zero
			}
			fillPlane(plane, s, pick, c, C)
			resize(plane, s.Width, s.Height, rx, ry, out[(c*T+t)*H*W:(c*T+t+1)*H*W])
		}
	}
	normalise(out, s, m, C)
	return out
}

// pick is a frame position along T: frame (and, for linear resampling, the
// next frame with weight frac).
type pick struct {
	frame int
	frac  float64
}

// timeMapping chooses T frame positions along the sample, over its whole
// stack or, for "central", over the middle half (at least T frames wide).
func timeMapping(s *media.Sample, m *Manifest, T int) []pick {
	out := make([]pick, T)
	F := s.Frames
	mode := m.TimeMapping[string(s.Kind)]
	lo, span := 0.0, float64(F)
	if mode == "central" {
		span = math.Min(float64(F), math.Max(float64(F)/2, float64(T)))
		lo = (float64(F) - span) / 2
	}
	for t := range out {
		pos := lo + (float64(t)+0.5)*span/float64(T) - 0.5
		pos = math.Max(0, math.Min(float64(F-1), pos))
		switch {
		case s.Kind == media.Image2D && mode == "pad" && t > 0:
			out[t] = pick{frame: -1}
		case s.Kind == media.Image2D:
			out[t] = pick{frame: 0}
		case mode == "resample" || (s.Kind == media.Volume && mode == ""):
			f := int(math.Floor(pos))
			out[t] = pick{frame: f, frac: pos - float64(f)}
		default: // "even", "central": nearest frame
			out[t] = pick{frame: int(math.Round(pos))}
		}
	}
	return out
}

// fillPlane writes channel c (of a model with C channels) of the picked
// frame position into plane.
func fillPlane(plane []float32, s *media.Sample, p pick, c, C int) {
	get := func(f int) []float32 {
		if s.Channels == 1 {
			return s.Frame(f)
		}
		if C == 1 {
			return s.Grey(f)
		}
		fr := s.Frame(f)
		ch := make([]float32, s.Width*s.Height)
		for i := range ch {
			ch[i] = fr[3*i+c]
		}
		return ch
	}
	a := get(p.frame)
	if p.frac == 0 || p.frame+1 >= s.Frames {
		copy(plane, a)
		return
	}
	b := get(p.frame + 1)
	w := float32(p.frac)
	for i := range plane {
		plane[i] = a[i]*(1-w) + b[i]*w
	}
}

// tap is one source index and its weight in an output sample.
type tap struct {
	i int
	w float32
}

// resampler returns, for each of n outputs, the weighted source taps over
// src inputs: box (area) weights when shrinking, linear when enlarging.
func resampler(src, n int) [][]tap {
	out := make([][]tap, n)
	scale := float64(src) / float64(n)
	for o := range out {
		if scale > 1 {
			lo, hi := float64(o)*scale, float64(o+1)*scale
			for i := int(lo); i < src && float64(i) < hi; i++ {
				w := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
				if w > 1e-9 {
					out[o] = append(out[o], tap{i, float32(w / scale)})
				}
			}
			continue
		}
		pos := math.Max(0, math.Min(float64(src-1), (float64(o)+0.5)*scale-0.5))
		i := int(pos)
		f := pos - float64(i)
		out[o] = append(out[o], tap{i, float32(1 - f)})
		if i+1 < src && f > 0 {
			out[o] = append(out[o], tap{i + 1, float32(f)})
		}
	}
	return out
}

// resize applies the separable resampling rx (columns) and ry (rows).
func resize(src []float32, w, h int, rx, ry [][]tap, dst []float32) {
	W := len(rx)
	tmp := make([]float32, h*W)
	for y := 0; y < h; y++ {
		row := src[y*w : (y+1)*w]
		for x, taps := range rx {
			var v float32
			for _, t := range taps {
				v += row[t.i] * t.w
			}
			tmp[y*W+x] = v
		}
	}
	for y, taps := range ry {
		for x := 0; x < W; x++ {
			var v float32
			for _, t := range taps {
				v += tmp[t.i*W+x] * t.w
			}
			dst[y*W+x] = v
		}
	}
}

// NormalisationFor picks the manifest's rule for a sample: by modality,
// then "RGB" for colour samples, then "default".
func NormalisationFor(s *media.Sample, m *Manifest) Normalisation {
	if n, ok := m.Normalisation[s.Meta.Modality]; ok {
		return n
	}
	if s.Channels == 3 {
		if n, ok := m.Normalisation["RGB"]; ok {
			return n
		}
	}
	if n, ok := m.Normalisation["default"]; ok {
		return n
	}
	return Normalisation{Method: "percentile", Low: 1, High: 99}
}

func normalise(x []float32, s *media.Sample, m *Manifest, C int) {
	n := NormalisationFor(s, m)
	var lo, width float64
	switch n.Method {
	case "window":
		lo, width = n.Center-n.Width/2, n.Width
	case "meanstd":
		per := len(x) / C
		for c := 0; c < C; c++ {
			mean, std := pickStat(n.Mean, c, 0), pickStat(n.Std, c, 1)
			for i := c * per; i < (c+1)*per; i++ {
				x[i] = float32((float64(x[i])/255 - mean) / std)
			}
		}
		return
	default: // percentile
		l, h := media.Percentiles(x, n.Low, n.High)
		lo, width = l, h-l
	}
	if width <= 0 {
		width = 1
	}
	for i, v := range x {
		x[i] = float32(math.Max(0, math.Min(1, (float64(v)-lo)/width)))
	}
}

func pickStat(v []float64, c int, def float64) float64 {
	switch {
	case len(v) == 0:
		return def
	case c < len(v):
		return v[c]
	}
	return v[len(v)-1]
}
