package viewer

import (
	"math"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

func TestTableHUToGrey(t *testing.T) {
	tests := []struct {
		name string
		win  media.Window
		hu   float32
		want uint8
	}{
		{"lung: air is dark", Lung, -1000, 60},
		{"lung: centre is mid-grey", Lung, -600, 128},
		{"lung: soft tissue is white", Lung, 150, 255},
		{"mediastinum: fat", Mediastinum, -100, 38},
		{"mediastinum: water", Mediastinum, 0, 102},
		{"mediastinum: bone saturates", Mediastinum, 700, 255},
		{"abdomen: liver", Abdomen, 60, 135},
		{"bone: cortex", Bone, 1000, 213},
		{"bone: air is black", Bone, -1000, 0},
		{"brain: grey matter", Brain, 40, 128},
		{"brain: CSF", Brain, 8, 26},
		{"brain: below the window", Brain, -5, 0},
		{"far above any window", Brain, 1e9, 255},
		{"NaN shows as the bottom", Brain, float32(math.NaN()), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewTable(tc.win, TableOptions{}).Grey(tc.hu); got != tc.want {
				t.Fatalf("Grey(%v) = %d, want %d", tc.hu, got, tc.want)
			}
		})
	}
}

// The table gives what the linear DICOM function of library/media gives,
// value for value, for integer data across every preset.
func TestTableMatchesLinearFunction(t *testing.T) {
	for _, w := range []media.Window{Lung, Mediastinum, Abdomen, Bone, Brain, {Center: 0.5, Width: 0.25}, {Center: 3e4, Width: 2e5}} {
		t.Run(num(w.Center)+"/"+num(w.Width), func(t *testing.T) {
			tab, lin := NewTable(w, TableOptions{}), media.NewLUT(w)
			step := math.Max(w.Width/997, 1)
			if w.Width < 1 {
				step = w.Width / 997
			}
			for v := w.Center - w.Width; v <= w.Center+w.Width; v += step {
				x := float32(v)
				if w.Width >= 1 {
					x = float32(math.Round(v))
				}
				if a, b := tab.Grey(x), lin.Grey(x); absDiff(a, b) > 1 {
					t.Fatalf("value %v: table %d, linear %d", x, a, b)
				}
			}
		})
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestTableInvertAndMonochrome1(t *testing.T) {
	// A MONOCHROME1 file stores 0 for white; the reader negates values
	// (and the window centre), so more signal is brighter everywhere.
	stored := []float32{0, 1000, 4095}
	w := media.Window{Center: -2048, Width: 4096} // negated centre of 2048/4096
	tab := NewTable(w, TableOptions{Mono1: true})
	var got []uint8
	for _, s := range stored {
		got = append(got, tab.Grey(-s))
	}
	if !(got[0] > got[1] && got[1] > got[2]) || got[0] < 250 || got[2] > 5 {
		t.Fatalf("MONOCHROME1 stored 0/1000/4095 shown as %v, want white to black", got)
	}
	// With a VOI LUT the LUT sees the stored value; its output is inverted.
	voi := &media.VOILUT{First: 0, Bits: 12, Data: make([]uint16, 4096)}
	for i := range voi.Data {
		voi.Data[i] = uint16(i)
	}
	vt := NewTable(voiIdentity(voi), TableOptions{VOI: voi, Mono1: true})
	if a, b := vt.Grey(-0), vt.Grey(-4095); a < 250 || b > 5 {
		t.Fatalf("MONOCHROME1 through a VOI LUT: stored 0 → %d, 4095 → %d", a, b)
	}
	inv := NewTable(Brain, TableOptions{Invert: true})
	if inv.Grey(0) != 255 || inv.Grey(80) != 0 {
		t.Fatalf("inverted brain window: 0 → %d, 80 → %d", inv.Grey(0), inv.Grey(80))
	}
}

func TestPresets(t *testing.T) {
	ct := &media.Sample{Kind: media.Image2D, Width: 100, Height: 1, Frames: 1, Channels: 1, Data: make([]float32, 100),
		Window: &media.Window{Center: 35, Width: 350}, Meta: media.Meta{Modality: "CT"}}
	mr := &media.Sample{Kind: media.Image2D, Width: 100, Height: 1, Frames: 1, Channels: 1, Data: make([]float32, 100),
		Meta: media.Meta{Modality: "MR"}}
	for i := range mr.Data {
		mr.Data[i] = float32(i * 10)
	}
	tests := []struct {
		name     string
		s        *media.Sample
		key      rune
		want     media.Window
		wantNone bool
	}{
		{"CT 0 is the DICOM default", ct, '0', media.Window{Center: 35, Width: 350}, false},
		{"CT 1 lung", ct, '1', media.Window{Center: -600, Width: 1500}, false},
		{"CT 2 mediastinum", ct, '2', media.Window{Center: 40, Width: 400}, false},
		{"CT 3 abdomen", ct, '3', media.Window{Center: 50, Width: 350}, false},
		{"CT 4 bone", ct, '4', media.Window{Center: 400, Width: 1800}, false},
		{"CT 5 brain", ct, '5', media.Window{Center: 40, Width: 80}, false},
		{"CT 6 is nothing", ct, '6', media.Window{}, true},
		{"MR 0 without a DICOM window is auto", mr, '0', media.Window{Center: 495, Width: 970.2}, false},
		{"MR 1 is auto from the 1st-99th percentiles", mr, '1', media.Window{Center: 495, Width: 970.2}, false},
		{"MR has no lung window", mr, '2', media.Window{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := PresetFor(tc.s.Meta.Modality, tc.key)
			if ok == tc.wantNone {
				t.Fatalf("preset on %q: %v", tc.key, ok)
			}
			if !ok {
				return
			}
			got := p.Resolve(tc.s, tc.s.Frame(0))
			if math.Abs(got.Center-tc.want.Center) > 0.5 || math.Abs(got.Width-tc.want.Width) > 0.5 {
				t.Fatalf("window %+v, want %+v", got, tc.want)
			}
		})
	}
	rgb := &media.Sample{Width: 1, Height: 1, Frames: 1, Channels: 3, Data: []float32{1, 2, 3}}
	if w := (Preset{Default: true}).Resolve(rgb, rgb.Grey(0)); w != (media.Window{Center: 127.5, Width: 255}) {
		t.Fatalf("colour default %+v", w)
	}
}
