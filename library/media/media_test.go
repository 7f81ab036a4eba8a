package media

import (
	"image"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Sample
		ok   bool
	}{
		{"grey", Sample{Width: 2, Height: 1, Frames: 1, Channels: 1, Data: make([]float32, 2)}, true},
		{"rgb frames", Sample{Width: 2, Height: 2, Frames: 3, Channels: 3, Data: make([]float32, 36)}, true},
		{"short data", Sample{Width: 2, Height: 2, Frames: 1, Channels: 1, Data: make([]float32, 3)}, false},
		{"no pixels", Sample{Channels: 1}, false},
		{"two channels", Sample{Width: 1, Height: 1, Frames: 1, Channels: 2, Data: make([]float32, 2)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

func TestLUT(t *testing.T) {
	// Brain window 40/80: -1000 HU black, 0 at the bottom, 40 mid-grey, 80 white.
	l := NewLUT(Window{Center: 40, Width: 80})
	tests := []struct {
		v    float32
		want uint8
	}{{-1000, 0}, {0, 0}, {40, 128}, {80, 255}, {3000, 255}}
	for _, tc := range tests {
		if got := l.Grey(tc.v); got != tc.want {
			t.Errorf("Grey(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestAutoWindowAndRender(t *testing.T) {
	s := &Sample{Kind: Image2D, Width: 100, Height: 1, Frames: 1, Channels: 1, Data: make([]float32, 100)}
	for i := range s.Data {
		s.Data[i] = float32(i * 10)
	}
	w := s.AutoWindow(0)
	if w.Center < 480 || w.Center > 510 || w.Width < 950 || w.Width > 990 {
		t.Fatalf("auto window %+v", w)
	}
	s.Window = &Window{Center: 500, Width: 200}
	if got := s.AutoWindow(0); got != *s.Window {
		t.Fatalf("DICOM window not kept: %+v", got)
	}
	img := s.Render(0, *s.Window).(*image.Gray)
	if img.Pix[39] != 0 || img.Pix[60] != 255 || img.Pix[50] < 127 || img.Pix[50] > 128 {
		t.Fatalf("render %v", img.Pix[35:65])
	}
}

func TestThumbnail(t *testing.T) {
	s := &Sample{Kind: Volume, Width: 400, Height: 200, Frames: 3, Channels: 1, Data: make([]float32, 400*200*3)}
	for i := range s.Data {
		s.Data[i] = float32(i % 400)
	}
	th := s.Thumbnail(100)
	if b := th.Bounds(); b.Dx() != 100 || b.Dy() != 50 {
		t.Fatalf("thumbnail %v", b)
	}
	small := &Sample{Width: 10, Height: 10, Frames: 1, Channels: 3, Data: make([]float32, 300)}
	if b := small.Thumbnail(100).Bounds(); b.Dx() != 10 {
		t.Fatalf("small image enlarged: %v", b)
	}
}

func TestGreyOfRGB(t *testing.T) {
	s := &Sample{Width: 1, Height: 1, Frames: 1, Channels: 3, Data: []float32{100, 100, 100}}
	if g := s.Grey(0); len(g) != 1 || g[0] < 99.9 || g[0] > 100.1 {
		t.Fatalf("grey %v", g)
	}
}
