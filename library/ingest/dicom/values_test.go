package dicom

import (
	"errors"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// Synthetic pixels (made up in the test) through the value paths that the
// real sample files do not reach.
func TestToValues(t *testing.T) {
	pal := &palette{first: 10, bits: 16, red: []uint16{0, 65535}, green: []uint16{65535, 0}, blue: []uint16{257, 514}}
	tests := []struct {
		name string
		h    header
		raw  []uint32
		want []float32
	}{
		{"unsigned 16", header{cols: 2, samples: 1, bitsStored: 16, slope: 1}, []uint32{0, 65535}, []float32{0, 65535}},
		{"signed 12 in 16", header{cols: 2, samples: 1, bitsStored: 12, signed: true, slope: 1}, []uint32{0x0FFF, 0x0800}, []float32{-1, -2048}},
		{"signed 8", header{cols: 2, samples: 1, bitsStored: 8, signed: true, slope: 1}, []uint32{0xFF, 0x7F}, []float32{-1, 127}},
		{"signed 32", header{cols: 2, samples: 1, bitsStored: 32, signed: true, slope: 1}, []uint32{0xFFFFFFFE, 5}, []float32{-2, 5}},
		{"unsigned 32", header{cols: 1, samples: 1, bitsStored: 32, slope: 1}, []uint32{4000000000}, []float32{4000000000}},
		{"CT rescale to HU", header{cols: 2, samples: 1, bitsStored: 16, slope: 1, intercept: -1024}, []uint32{0, 1064}, []float32{-1024, 40}},
		{"MONOCHROME1 inverted", header{cols: 2, samples: 1, bitsStored: 8, slope: 1, meta: media.Meta{Photometric: "MONOCHROME1"}}, []uint32{0, 200}, []float32{0, -200}},
		{"palette", header{cols: 3, samples: 1, bitsStored: 8, palette: pal, meta: media.Meta{Photometric: "PALETTE COLOR"}},
			[]uint32{10, 11, 99}, []float32{0, 255, 1, 255, 0, 2, 255, 0, 2}},
		{"RGB planar", header{cols: 2, samples: 3, bitsStored: 8, planar: true, meta: media.Meta{Photometric: "RGB"}},
			[]uint32{1, 2, 3, 4, 5, 6}, []float32{1, 3, 5, 2, 4, 6}},
		{"YBR_FULL grey", header{cols: 1, samples: 3, bitsStored: 8, meta: media.Meta{Photometric: "YBR_FULL"}},
			[]uint32{100, 128, 128}, []float32{100, 100, 100}},
		{"YBR_FULL_422 native", header{cols: 2, samples: 3, bitsStored: 8, meta: media.Meta{Photometric: "YBR_FULL_422"}},
			[]uint32{50, 60, 128, 128}, []float32{50, 50, 50, 60, 60, 60}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.h.rows = 1
			got, err := tc.h.toValues(tc.raw, tc.h.planar)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if d := got[i] - tc.want[i]; d > 0.01 || d < -0.01 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestNonImage(t *testing.T) {
	for uid, want := range map[string]bool{
		"1.2.840.10008.5.1.4.1.1.88.22": true,  // enhanced SR
		"1.2.840.10008.5.1.4.1.1.481.3": true,  // RT structure set
		"1.2.840.10008.5.1.4.1.1.9.1.1": true,  // 12-lead ECG
		"1.2.840.10008.5.1.4.1.1.104.1": true,  // encapsulated PDF
		"1.2.840.10008.5.1.4.1.1.2":     false, // CT image
		"1.2.840.10008.5.1.4.1.1.7":     false, // secondary capture
		"1.2.840.10008.5.1.4.1.1.481.1": false, // RT image (a portal image)
		"1.2.840.10008.5.1.4.1.1.481.2": true,  // RT dose
		"1.2.840.10008.5.1.4.1.1.12.1":  false, // XA
	} {
		h := header{rows: 1, cols: 1, bitsAllocated: 8, sopClass: uid}
		if got := errors.Is(h.checkImage(), ErrNotImage); got != want {
			t.Errorf("%s: skipped=%v, want %v", uid, got, want)
		}
	}
}

func TestJPEGFrameSizeRefusesLies(t *testing.T) {
	h := header{rows: 512, cols: 512, samples: 1}
	// A lossless JPEG that declares 60000x60000: refused before decoding.
	lie := []byte{0xFF, 0xD8, 0xFF, 0xC3, 0x00, 0x0B, 0x10, 0xEA, 0x60, 0xEA, 0x60, 0x01, 0x01, 0x11, 0x00}
	w, ht, c, err := jpegFrameSize(lie)
	if err != nil || h.checkSize(w, ht, c) == nil {
		t.Fatalf("size %dx%d×%d, err %v: want a refusal", w, ht, c, err)
	}
	// A JPEG 2000 SIZ claiming 100000 columns.
	siz := make([]byte, 42)
	copy(siz, []byte{0xFF, 0x4F, 0xFF, 0x51})
	siz[8], siz[9], siz[10], siz[11] = 0x00, 0x01, 0x86, 0xA0
	if _, err := h.j2kCodestream(siz); !errors.Is(err, ErrCodestream) {
		t.Fatalf("got %v, want ErrCodestream", err)
	}
}
