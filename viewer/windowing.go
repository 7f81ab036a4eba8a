package viewer

import (
	"math"

	"github.com/m3ret/viewer/library/media"
)

// Preset is a display window chosen with a number key.
type Preset struct {
	Key  rune
	Name string
	// Window is the preset's window; ignored when Auto or Default is set.
	Window media.Window
	// Auto computes the window from the 1st and 99th percentiles of the
	// slice shown (MR, US, XR and anything without a fixed scale).
	Auto bool
	// Default is the source's own window (DICOM Window Center/Width), or
	// Auto when the source has none.
	Default bool
}

// CT tissue windows (centre/width in HU), the ones Horos, RadiAnt and Weasis
// put on the number keys.
var (
	Lung        = media.Window{Center: -600, Width: 1500}
	Mediastinum = media.Window{Center: 40, Width: 400}
	Abdomen     = media.Window{Center: 50, Width: 350}
	Bone        = media.Window{Center: 400, Width: 1800}
	Brain       = media.Window{Center: 40, Width: 80}
)

// Presets returns the window presets for a modality: '0' is the source's
// default; CT has lung, mediastinum, abdomen, bone and brain on '1' to '5';
// every other modality has the automatic window on '1'.
func Presets(modality string) []Preset {
	def := Preset{Key: '0', Name: "Default", Default: true}
	if modality != "CT" {
		return []Preset{def, {Key: '1', Name: "Auto", Auto: true}}
	}
	return []Preset{def,
		{Key: '1', Name: "Lung", Window: Lung},
		{Key: '2', Name: "Mediastinum", Window: Mediastinum},
		{Key: '3', Name: "Abdomen", Window: Abdomen},
		{Key: '4', Name: "Bone", Window: Bone},
		{Key: '5', Name: "Brain", Window: Brain},
	}
}

// PresetFor returns the preset on key r for a modality.
func PresetFor(modality string, r rune) (Preset, bool) {
	for _, p := range Presets(modality) {
		if p.Key == r {
			return p, true
		}
	}
	return Preset{}, false
}

// Resolve returns the window a preset gives for sample s showing slice
// (the grey values on screen).
func (p Preset) Resolve(s *media.Sample, slice []float32) media.Window {
	switch {
	case p.Default && s != nil && s.Window != nil && s.Window.Width > 0:
		return *s.Window
	case p.Default && s != nil && s.VOI != nil:
		return voiIdentity(s.VOI)
	case p.Default && s != nil && s.Channels == 3:
		return media.Window{Center: 127.5, Width: 255}
	case p.Default || p.Auto:
		return AutoWindow(slice)
	}
	return p.Window
}

// AutoWindow spans the 1st to 99th percentile of values: robust to the few
// very bright or dark pixels (metal, labels) that a min-max window lets
// flatten the image.
func AutoWindow(values []float32) media.Window {
	lo, hi := media.Percentiles(values, 1, 99)
	if !(hi > lo) {
		hi = lo + 1
	}
	return media.Window{Center: (lo + hi) / 2, Width: hi - lo}
}

// voiIdentity is the window that shows a VOI LUT's output unchanged: the
// LUT does the windowing, the linear step only scales its range to 8 bits.
func voiIdentity(v *media.VOILUT) media.Window {
	top := float64(int(1)<<max(v.Bits, 1)) - 1
	return media.Window{Center: top / 2, Width: top + 1}
}

// Table maps stored values (HU for CT) to 8-bit grey with one lookup: the
// window, an optional VOI LUT and inversion are folded into it when it is
// built, so drawing a pixel never computes or allocates. It covers the
// window's span (or the VOI LUT's domain); values outside clamp to its
// ends, which is exact because they saturate anyway.
type Table struct {
	lo, k float32 // index = (v - lo) * k
	top   float32 // last index
	grey  []uint8
}

// TableOptions are the display settings folded into a Table besides the
// window.
type TableOptions struct {
	Invert bool          // show bright as dark
	VOI    *media.VOILUT // applied before the window, as DICOM says
	// Mono1 tells that the values were negated at read (MONOCHROME1): the
	// VOI LUT then sees the stored value, and its output is inverted.
	Mono1 bool
}

// NewTable builds the lookup for window w.
func NewTable(w media.Window, opt TableOptions) *Table {
	lo, hi := w.Center-w.Width/2, w.Center+w.Width/2
	if opt.VOI != nil && len(opt.VOI.Data) > 0 {
		lo, hi = float64(opt.VOI.First), float64(opt.VOI.First+len(opt.VOI.Data)-1)
		if opt.Mono1 {
			lo, hi = -hi, -lo
		}
	}
	span := math.Max(hi-lo, 1e-6)
	// Integer steps keep integer data exact: a CT value v lands on the
	// entry computed for v itself.
	k := 1.0
	switch {
	case span <= 4096:
		k = math.Max(1, math.Floor(4096/span))
		if span < 1 {
			k = 4096 / span
		}
	case span > 65535:
		k = 65535 / span
	}
	n := int(span*k) + 1
	t := &Table{lo: float32(lo), k: float32(k), top: float32(n - 1), grey: make([]uint8, n)}
	lut := media.NewLUT(w)
	for i := range t.grey {
		v := lo + float64(i)/k
		g := greyOf(v, lut, opt)
		if opt.Invert {
			g = 255 - g
		}
		t.grey[i] = g
	}
	return t
}

// greyOf is the display pipeline for one value: VOI LUT (if any), then the
// window.
func greyOf(v float64, lut media.LUT, opt TableOptions) uint8 {
	if opt.VOI == nil || len(opt.VOI.Data) == 0 {
		return lut.Grey(float32(v))
	}
	raw := v
	if opt.Mono1 {
		raw = -v
	}
	i := int(math.Round(raw)) - opt.VOI.First
	i = max(0, min(len(opt.VOI.Data)-1, i))
	g := lut.Grey(float32(opt.VOI.Data[i]))
	if opt.Mono1 {
		g = 255 - g
	}
	return g
}

// Grey maps one value.
func (t *Table) Grey(v float32) uint8 {
	f := (v - t.lo) * t.k
	switch {
	case f >= t.top:
		return t.grey[len(t.grey)-1]
	case f > 0:
		return t.grey[int32(f)]
	}
	return t.grey[0] // below the window, and NaN
}
