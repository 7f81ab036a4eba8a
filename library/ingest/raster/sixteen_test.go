package raster

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/tiff"
)

// 16-bit grey and colour PNG and TIFF keep values past 255 exactly.
func TestSixteenBit(t *testing.T) {
	g := image.NewGray16(image.Rect(0, 0, 3, 2))
	rgb := image.NewRGBA64(image.Rect(0, 0, 3, 2))
	want := []uint16{0, 256, 1000, 4095, 40000, 65535}
	for i, v := range want {
		g.SetGray16(i%3, i/3, color.Gray16{Y: v})
		rgb.SetRGBA64(i%3, i/3, color.RGBA64{R: v, G: 65535 - v, B: 300, A: 65535})
	}
	tif := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := tiff.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		ch   int
	}{
		{"png grey", encodePNG(t, g), 1},
		{"tiff grey", tif(g), 1},
		{"png rgb", encodePNG(t, rgb), 3},
		{"tiff rgb", tif(rgb), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Read(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if s.Channels != tc.ch || s.Width != 3 || s.Height != 2 {
				t.Fatalf("%dx%d c%d", s.Width, s.Height, s.Channels)
			}
			for i, v := range want {
				if got := s.Data[i*tc.ch]; got != float32(v) {
					t.Fatalf("pixel %d = %v, want %d", i, got, v)
				}
				if tc.ch == 3 && (s.Data[3*i+1] != float32(65535-v) || s.Data[3*i+2] != 300) {
					t.Fatalf("pixel %d = %v", i, s.Data[3*i:3*i+3])
				}
			}
		})
	}
}

// A TIFF header claiming 200000x200000 pixels is refused from the header.
func TestRefusesHugeTIFF(t *testing.T) {
	var b bytes.Buffer
	if err := tiff.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	// Patch the ImageWidth (256) and ImageLength (257) entries of the IFD.
	ifd := int(data[4]) | int(data[5])<<8 | int(data[6])<<16 | int(data[7])<<24
	n := int(data[ifd]) | int(data[ifd+1])<<8
	for e := 0; e < n; e++ {
		p := ifd + 2 + 12*e
		if tag := int(data[p]) | int(data[p+1])<<8; tag == 256 || tag == 257 {
			data[p+2], data[p+3] = 4, 0                                        // LONG
			data[p+8], data[p+9], data[p+10], data[p+11] = 0x40, 0x0d, 0x03, 0 // 200000
		}
	}
	if _, err := Read(bytes.NewReader(data)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
}

// Sidecars override the folder convention field by field.
func TestLabelsFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		folder  string
		files   map[string]string
		want    Labels
		wantErr bool
	}{
		{"folder only", "XR-chest", nil, Labels{"DX", "CHEST", ""}, false},
		{"unknown folder", "holiday", nil, Labels{"OT", "", ""}, false},
		{"own sidecar full name", "CT", map[string]string{"a.png.json": `{"modality":"dx","body_part":"hand","description":" PA "}`},
			Labels{"DX", "HAND", "PA"}, false},
		{"own sidecar stem", "US-liver", map[string]string{"a.json": `{"description":"longitudinal"}`},
			Labels{"US", "LIVER", "longitudinal"}, false},
		{"folder sidecar", "misc", map[string]string{"m3ret.json": `{"modality":"XR","body_part":"knee"}`},
			Labels{"DX", "KNEE", ""}, false},
		{"own beats folder", "misc", map[string]string{"m3ret.json": `{"modality":"CT","description":"folder"}`, "a.json": `{"modality":"MR"}`},
			Labels{"MR", "", "folder"}, false},
		{"BIDS keys", "anat", map[string]string{"a.json": `{"Modality":"MR","EchoTime":0.03}`}, Labels{"MR", "", ""}, false},
		{"malformed", "CT", map[string]string{"a.json": `{"modality":`}, Labels{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.folder)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LabelsFor(filepath.Join(dir, "a.png"))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("LabelsFor = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestReadFileSidecar(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "photos")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "a.png")
	if err := os.WriteFile(p, encodePNG(t, image.NewGray(image.Rect(0, 0, 2, 2))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"modality":"DX","body_part":"chest","description":"PA erect"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Meta.Modality != "DX" || s.Meta.BodyPart != "CHEST" || s.Meta.SeriesDescription != "PA erect" {
		t.Fatalf("meta %+v", s.Meta)
	}
}
