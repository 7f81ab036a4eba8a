package perturb

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// grey returns a w x h grey image2d whose pixel (x, y) is f(x, y).
func grey(w, h int, f func(x, y int) float32) *media.Sample {
	s := &media.Sample{Kind: media.Image2D, Width: w, Height: h, Frames: 1, Channels: 1, Data: make([]float32, w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s.Data[y*w+x] = f(x, y)
		}
	}
	return s
}

// ramp is a 0..w*h-1 ramp, row after row (synthetic).
func ramp(w, h int) *media.Sample {
	return grey(w, h, func(x, y int) float32 { return float32(y*w + x) })
}

// TestApplyGeometry checks each geometric change on small synthetic
// images whose result is known exactly.
func TestApplyGeometry(t *testing.T) {
	tests := []struct {
		name string
		in   *media.Sample
		p    Params
		w, h int
		want []float32
	}{
		{"identity", ramp(3, 2), Identity, 3, 2, []float32{0, 1, 2, 3, 4, 5}},
		{"mirror", ramp(3, 2), Params{Crop: 1, Gamma: 1, Mirror: true}, 3, 2, []float32{2, 1, 0, 5, 4, 3}},
		{"crop top right", ramp(4, 4), Params{Crop: 0.5, X0: 1, Y0: 0, Gamma: 1}, 2, 2, []float32{2, 3, 6, 7}},
		{"crop bottom left", ramp(4, 4), Params{Crop: 0.5, X0: 0, Y0: 1, Gamma: 1}, 2, 2, []float32{8, 9, 12, 13}},
		{"crop then mirror", ramp(4, 4), Params{Crop: 0.5, X0: 0, Y0: 0, Gamma: 1, Mirror: true}, 2, 2, []float32{1, 0, 5, 4}},
		// 90 degrees counter-clockwise on screen: the right column becomes the top row.
		{"rotate 90", ramp(3, 3), Params{Angle: 90, Crop: 1, Gamma: 1}, 3, 3, []float32{2, 5, 8, 1, 4, 7, 0, 3, 6}},
		{"rotate -90", ramp(3, 3), Params{Angle: -90, Crop: 1, Gamma: 1}, 3, 3, []float32{6, 3, 0, 7, 4, 1, 8, 5, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply(tc.in, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Width != tc.w || got.Height != tc.h {
				t.Fatalf("size %dx%d, want %dx%d", got.Width, got.Height, tc.w, tc.h)
			}
			for i := range tc.want {
				if math.Abs(float64(got.Data[i]-tc.want[i])) > 1e-4 {
					t.Fatalf("data %v, want %v", got.Data, tc.want)
				}
			}
		})
	}
}

// TestRotateFillsCorners: a 20-degree turn of a bright square brings the
// background (its lowest value) into the corners and keeps the centre.
func TestRotateFillsCorners(t *testing.T) {
	in := grey(21, 21, func(x, y int) float32 {
		if x == 10 && y == 10 {
			return 50
		}
		return 100
	})
	in.Data[0] = -10 // the lowest value, far from the centre
	got, err := Apply(in, Params{Angle: 20, Crop: 1, Gamma: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Data[10*21+10]; math.Abs(float64(c-50)) > 1e-4 {
		t.Errorf("centre %v, want 50", c)
	}
	for _, i := range []int{0, 20, 20 * 21, 21*21 - 1} {
		if got.Data[i] != -10 {
			t.Errorf("corner %d = %v, want the fill -10", i, got.Data[i])
		}
	}
	if in.Data[0] != -10 || in.Data[1] != 100 {
		t.Error("the original was changed")
	}
}

// TestGamma: values -100, 0, 100, 300 sit at 0, 1/4, 1/2 and 1 of their
// range; the gamma change maps those positions to their power.
func TestGamma(t *testing.T) {
	tests := []struct {
		name string
		g    float64
		want []float32
	}{
		{"square", 2, []float32{-100, -75, 0, 300}},                                  // 0, 1/16, 1/4, 1
		{"root", 0.5, []float32{-100, 100, float32(-100 + 400*math.Sqrt(0.5)), 300}}, // 0, 1/2, 0.707, 1
		{"none", 1, []float32{-100, 0, 100, 300}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := grey(4, 1, func(x, _ int) float32 { return []float32{-100, 0, 100, 300}[x] })
			got, err := Apply(in, Params{Crop: 1, Gamma: tc.g})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				if math.Abs(float64(got.Data[i]-tc.want[i])) > 1e-3 {
					t.Fatalf("gamma %v: %v, want %v", tc.g, got.Data, tc.want)
				}
			}
		})
	}
}

// TestNoise: the noise has the sigma asked for (a fraction of the 1-99
// percentile range), the same seed gives the same copy, another seed
// another one.
func TestNoise(t *testing.T) {
	// A ramp (1st-99th percentile range about 197) with a few outliers
	// that the percentiles leave out.
	in := grey(200, 200, func(x, y int) float32 {
		if (y*200+x)%400 == 0 {
			return 1e4
		}
		return float32(x)
	})
	l, h := media.Percentiles(in.Data, 1, 99)
	p := Params{Crop: 1, Gamma: 1, Noise: 0.05, Seed: 7}
	a, _ := Apply(in, p)
	b, _ := Apply(in, p)
	if !slices.Equal(a.Data, b.Data) {
		t.Fatal("same seed, different noise")
	}
	var sum, sq float64
	for i := range a.Data {
		d := float64(a.Data[i] - in.Data[i])
		sum, sq = sum+d, sq+d*d
	}
	n := float64(len(a.Data))
	sd := math.Sqrt(sq/n - (sum/n)*(sum/n))
	if want := 0.05 * (h - l); math.Abs(sd-want) > 0.03*want || math.Abs(sum/n) > 0.05*want {
		t.Fatalf("noise sd %.3f mean %.3f, want sd %.3f mean 0", sd, sum/n, want)
	}
	p.Seed = 8
	if c, _ := Apply(in, p); slices.Equal(a.Data, c.Data) {
		t.Fatal("another seed, the same noise")
	}
}

// TestVolumeFramesAlike: every slice of a volume (and frame of an RGB
// video) is changed the same way.
func TestVolumeFramesAlike(t *testing.T) {
	for _, ch := range []int{1, 3} {
		s := &media.Sample{Kind: media.Volume, Width: 16, Height: 12, Frames: 3, Channels: ch, Data: make([]float32, 16*12*3*ch)}
		if ch == 3 {
			s.Kind = media.Video
		}
		n := s.FrameLen()
		for i := 0; i < n; i++ { // the same picture in every frame, the first a little brighter
			v := float32((i*37)%101) + 5
			s.Data[i], s.Data[n+i], s.Data[2*n+i] = v+1, v, v
		}
		got, err := Apply(s, Params{Angle: 13, Crop: 0.8, X0: 0.3, Y0: 0.6, Mirror: true, Gamma: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got.Frames != 3 || got.Channels != ch || got.Width != 13 || got.Height != 10 || got.Kind != s.Kind {
			t.Fatalf("%d channels: %+v", ch, got)
		}
		if !slices.Equal(got.Frame(1), got.Frame(2)) {
			t.Fatalf("%d channels: equal frames changed differently", ch)
		}
		if slices.Equal(got.Frame(0), got.Frame(1)) {
			t.Fatalf("%d channels: different frames came out equal", ch)
		}
	}
}

func TestMirrorRGBKeepsChannels(t *testing.T) {
	s := &media.Sample{Kind: media.Image2D, Width: 2, Height: 1, Frames: 1, Channels: 3, Data: []float32{1, 2, 3, 4, 5, 6}}
	got, err := Apply(s, Params{Crop: 1, Gamma: 1, Mirror: true})
	if err != nil || !slices.Equal(got.Data, []float32{4, 5, 6, 1, 2, 3}) {
		t.Fatalf("%v %v", got, err)
	}
}

func TestApplyRefuses(t *testing.T) {
	for _, p := range []Params{{Crop: 0, Gamma: 1}, {Crop: 1.2, Gamma: 1}, {Crop: 1, Gamma: 0}, {Crop: 1, Gamma: 1, X0: 2}, {Crop: 1, Gamma: 1, Noise: -1}} {
		if _, err := Apply(ramp(2, 2), p); !errors.Is(err, ErrParams) {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if _, err := Apply(&media.Sample{Channels: 1}, Identity); err == nil {
		t.Error("an empty sample was perturbed")
	}
}

// TestDraw: Default's draws stay in the ranges, change the gamma
// by at least 1.2x, and repeat with the seed.
func TestDraw(t *testing.T) {
	r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		p := Default.Draw(r1)
		if q := Default.Draw(r2); p != q {
			t.Fatalf("draw %d: %+v then %+v with the same seed", i, p, q)
		}
		g := math.Abs(math.Log(p.Gamma))
		if p.Crop < 0.7 || p.Crop > 0.9 || math.Abs(p.Angle) > 20 || !p.Mirror || g < math.Log(1.2)-1e-12 ||
			g > math.Log(1.5)+1e-12 || p.Noise < 0.02 || p.Noise > 0.05 || !p.valid() {
			t.Fatalf("draw %d out of range: %+v", i, p)
		}
	}
}
