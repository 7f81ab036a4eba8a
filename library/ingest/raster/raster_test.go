package raster

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Synthetic images: gradients made in the test.
func TestRead(t *testing.T) {
	g16 := image.NewGray16(image.Rect(0, 0, 4, 3))
	g16.SetGray16(3, 2, color.Gray16{Y: 40000})
	g8 := image.NewGray(image.Rect(0, 0, 5, 5))
	g8.SetGray(1, 1, color.Gray{Y: 200})
	rgb := image.NewRGBA(image.Rect(0, 0, 2, 2))
	rgb.Set(1, 0, color.RGBA{255, 10, 20, 255})
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, rgb, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      []byte
		w, h, ch  int
		at        int
		want      float32
		wantError bool
	}{
		{"png16", encodePNG(t, g16), 4, 3, 1, 2*4 + 3, 40000, false},
		{"png8", encodePNG(t, g8), 5, 5, 1, 6, 200, false},
		{"rgb", encodePNG(t, rgb), 2, 2, 3, 3, 255, false},
		{"jpeg", jp.Bytes(), 2, 2, 3, -1, 0, false},
		{"garbage", []byte("not an image at all"), 0, 0, 0, 0, 0, true},
		{"truncated", encodePNG(t, g8)[:40], 0, 0, 0, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Read(bytes.NewReader(tc.data))
			if tc.wantError {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.Width != tc.w || s.Height != tc.h || s.Channels != tc.ch {
				t.Fatalf("got %dx%d c%d", s.Width, s.Height, s.Channels)
			}
			if tc.at >= 0 && s.Data[tc.at] != tc.want {
				t.Fatalf("value %v, want %v", s.Data[tc.at], tc.want)
			}
		})
	}
}

func TestReadFileFolderConvention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "XR-chest")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "a.png")
	if err := os.WriteFile(p, encodePNG(t, image.NewGray(image.Rect(0, 0, 3, 3))), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Meta.Modality != "DX" || s.Meta.BodyPart != "CHEST" {
		t.Fatalf("got %q %q", s.Meta.Modality, s.Meta.BodyPart)
	}
}

func TestFolderConvention(t *testing.T) {
	for _, tc := range []struct{ in, mod, part string }{
		{"CT", "CT", ""}, {"us-liver", "US", "LIVER"}, {"photos", "OT", ""}, {"ES-colon", "ES", "COLON"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			m, p := FolderConvention(tc.in)
			if m != tc.mod || p != tc.part {
				t.Fatalf("got %q %q", m, p)
			}
		})
	}
}

func TestRefusesHugeDimensions(t *testing.T) {
	// A PNG header claiming 100000x100000 pixels.
	data := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	copy(data[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	if _, err := Read(bytes.NewReader(data)); err == nil {
		t.Fatal("no error for huge image")
	}
}

func FuzzRead(f *testing.F) {
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 2, 2))))
	f.Add([]byte("BM"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data))
		if err == nil {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
