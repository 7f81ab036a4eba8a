package viewer

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/m3ret/viewer/library/media"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// phantom is a synthetic 512×512 CT slice in HU: air around a body of soft
// tissue with fat, lungs, a vessel and a vertebra, with seeded noise.
func phantom(frames int) *media.Sample {
	const n = 512
	s := &media.Sample{Kind: media.Volume, Width: n, Height: n, Frames: frames, Channels: 1,
		Data: make([]float32, n*n*frames), Spacing: [3]float64{0.7, 0.7, 2.5},
		Window: &media.Window{Center: 40, Width: 400}, Meta: media.Meta{Modality: "CT", Orientation: "LPS"}}
	r := rand.New(rand.NewPCG(1, 2))
	in := func(x, y, cx, cy, rx, ry float64) bool {
		return (x-cx)*(x-cx)/(rx*rx)+(y-cy)*(y-cy)/(ry*ry) <= 1
	}
	for t := range frames {
		for y := range n {
			for x := range n {
				fx, fy := float64(x), float64(y)
				hu := -1000.0
				switch {
				case in(fx, fy, 256, 300, 90, 40) && fy > 280:
					hu = 700 // vertebra
				case in(fx, fy, 180, 230, 70, 100+float64(t)), in(fx, fy, 332, 230, 70, 100):
					hu = -850 // lungs
				case in(fx, fy, 256, 190, 18, 18):
					hu = 180 // contrast in the aorta
				case in(fx, fy, 256, 256, 210, 170):
					hu = 40 // soft tissue
				case in(fx, fy, 256, 256, 225, 185):
					hu = -100 // fat
				}
				s.Data[(t*n+y)*n+x] = float32(math.Round(hu + r.NormFloat64()*12))
			}
		}
	}
	return s
}

// TestGoldenCTSlice renders the phantom in the mediastinal window and
// compares it with testdata/ct_mediastinum.png (go test -update rewrites it).
func TestGoldenCTSlice(t *testing.T) {
	v := NewImageView()
	v.SetSample(phantom(1))
	if !v.ApplyPreset('2') {
		t.Fatal("no mediastinum preset for CT")
	}
	got := v.Render(256, 256)
	path := filepath.Join("testdata", "ct_mediastinum.png")
	if *update {
		var b bytes.Buffer
		if err := png.Encode(&b, got); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("golden image: %v (run go test -update once)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffPixels(got, want); d != 0 {
		t.Fatalf("%d pixels differ from %s", d, path)
	}
}

func diffPixels(a, b image.Image) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	n := 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
			}
		}
	}
	return n
}

func TestViewportAspectFromSpacing(t *testing.T) {
	tests := []struct {
		name     string
		iw, ih   int
		dx, dy   float64
		wantW    float64 // width of the image on a 400×400 screen
		wantH    float64
		wantZoom float64 // zoom of 1:1
	}{
		{"square pixels", 200, 100, 1, 1, 400, 200, 0.5},
		{"thick slices stand taller", 200, 20, 1, 5, 400, 200, 0.5},
		{"tall image fits its height", 100, 400, 0.5, 0.5, 100, 400, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vp := viewport{sw: 400, sh: 400, iw: tc.iw, ih: tc.ih, dx: tc.dx, dy: tc.dy, zoom: 1}
			x0, y0 := vp.toScreen(0, 0)
			x1, y1 := vp.toScreen(float64(tc.iw), float64(tc.ih))
			if math.Abs(x1-x0-tc.wantW) > 1e-6 || math.Abs(y1-y0-tc.wantH) > 1e-6 {
				t.Fatalf("image drawn %gx%g, want %gx%g", x1-x0, y1-y0, tc.wantW, tc.wantH)
			}
			if z := vp.oneToOne(); math.Abs(z-tc.wantZoom) > 1e-9 {
				t.Fatalf("1:1 zoom %g, want %g", z, tc.wantZoom)
			}
			if x, y := vp.toImage(vp.toScreen(3.25, 7.5)); math.Abs(x-3.25) > 1e-9 || math.Abs(y-7.5) > 1e-9 {
				t.Fatalf("round trip gave %g,%g", x, y)
			}
		})
	}
}

// Drawing a slice allocates nothing once the buffers exist: windowing is
// one table lookup a pixel.
func TestRenderAllocatesNothing(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	v.SetSample(phantom(2))
	v.Render(512, 512)
	f := 0
	if n := testing.AllocsPerRun(5, func() {
		f = 1 - f
		v.showFrame(f)
		v.Render(512, 512)
	}); n != 0 {
		t.Fatalf("%v allocations a frame", n)
	}
}

// BenchmarkRenderSlice is the time to draw one 512×512 CT slice at 1:1
// through the window table (what scrolling costs per frame before GL).
func BenchmarkRenderSlice(b *testing.B) {
	v := NewImageView()
	v.SetSample(phantom(8))
	v.ApplyPreset('1')
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v.SetFrame(i % 8)
		v.Render(512, 512)
	}
}

// BenchmarkRenderReformat draws a sagittal reformat of a 512×512×64 stack:
// gathering a column from every slice, then the table.
func BenchmarkRenderReformat(b *testing.B) {
	v := NewImageView()
	v.SetPlane(phantom(64), FixColumn)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v.SetFrame(100 + i%300)
		v.Render(512, 512)
	}
}
