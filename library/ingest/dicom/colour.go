package dicom

import (
	"fmt"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// palette is a PALETTE COLOR lookup table: stored value v maps to
// red[v-first], green[v-first], blue[v-first], each 8 or 16 bits.
type palette struct {
	first      int
	bits       int
	red, green []uint16
	blue       []uint16
}

func readPalette(ds *dcm.Dataset) *palette {
	desc := getInts(ds, tag.RedPaletteColorLookupTableDescriptor)
	if len(desc) < 3 {
		return nil
	}
	p := &palette{first: desc[1], bits: desc[2]}
	chans := []struct {
		t   tag.Tag
		dst *[]uint16
	}{
		{tag.RedPaletteColorLookupTableData, &p.red},
		{tag.GreenPaletteColorLookupTableData, &p.green},
		{tag.BluePaletteColorLookupTableData, &p.blue},
	}
	for _, c := range chans {
		vals := lutWords(ds, c.t, p.bits)
		if len(vals) == 0 {
			return nil
		}
		*c.dst = vals
	}
	return p
}

// lutWords reads LUT data: 16-bit words, or bytes packed two per word when
// the descriptor says 8 bits.
func lutWords(ds *dcm.Dataset, t tag.Tag, bits int) []uint16 {
	words := getInts(ds, t)
	var out []uint16
	for _, w := range words {
		if bits == 8 {
			out = append(out, uint16(w&0xFF), uint16(w>>8&0xFF))
		} else {
			out = append(out, uint16(w))
		}
	}
	return out
}

func (p *palette) lookup(lut []uint16, v int) float32 {
	i := min(max(v-p.first, 0), len(lut)-1)
	x := float32(lut[i])
	if p.bits > 8 {
		x /= 257 // 16-bit entries to the 0..255 range of the other colour paths
	}
	return x
}

// toValues turns stored sample bit patterns into the sample's values:
// modality values for grey images (sign, rescale, MONOCHROME1 inverted),
// 0..255-range RGB for colour ones (YBR converted, palette applied).
func (h *header) toValues(raw []uint32, planar bool) ([]float32, error) {
	npx := h.rows * h.cols
	switch {
	case h.meta.Photometric == "PALETTE COLOR":
		return h.applyPalette(raw, npx)
	case h.samples == 1:
		if len(raw) < npx {
			return nil, fmt.Errorf("frame has %d samples, need %d", len(raw), npx)
		}
		out := make([]float32, npx)
		for i := range out {
			out[i] = h.value(raw[i])
		}
		h.invertMono1(out)
		return out, nil
	case h.samples == 3:
		return h.colour(raw, npx, planar)
	}
	return nil, fmt.Errorf("unsupported samples per pixel %d", h.samples)
}

func (h *header) applyPalette(raw []uint32, npx int) ([]float32, error) {
	if h.palette == nil {
		return nil, fmt.Errorf("palette colour image without a usable palette")
	}
	if len(raw) < npx {
		return nil, fmt.Errorf("frame has %d samples, need %d", len(raw), npx)
	}
	p := h.palette
	out := make([]float32, 3*npx)
	for i := range npx {
		v := int(raw[i])
		out[3*i], out[3*i+1], out[3*i+2] = p.lookup(p.red, v), p.lookup(p.green, v), p.lookup(p.blue, v)
	}
	return out, nil
}

func (h *header) colour(raw []uint32, npx int, planar bool) ([]float32, error) {
	if h.is422() && len(raw) == h.samplesPerFrame() { // native 4:2:2
		raw = expand422(raw, h.cols, h.rows)
		planar = false
	}
	if len(raw) < 3*npx {
		return nil, fmt.Errorf("frame has %d samples, need %d", len(raw), 3*npx)
	}
	out := make([]float32, 3*npx)
	for i := range npx {
		for c := range 3 {
			j := 3*i + c
			if planar {
				j = c*npx + i
			}
			out[3*i+c] = float32(raw[j])
		}
	}
	if h.meta.Photometric == "YBR_FULL" || h.meta.Photometric == "YBR_FULL_422" {
		ybrToRGB(out, h.bitsStored)
	}
	return out, nil
}

// expand422 turns native YBR_FULL_422 (Y1 Y2 Cb Cr per pair of pixels)
// into three samples per pixel.
func expand422(raw []uint32, w, h int) []uint32 {
	out := make([]uint32, 3*w*h)
	k := 0
	for y := range h {
		for x := 0; x < w; x += 2 {
			if k+4 > len(raw) {
				return out
			}
			y1, y2, cb, cr := raw[k], raw[k+1], raw[k+2], raw[k+3]
			k += 4
			i := y*w + x
			out[3*i], out[3*i+1], out[3*i+2] = y1, cb, cr
			if x+1 < w {
				out[3*i+3], out[3*i+4], out[3*i+5] = y2, cb, cr
			}
		}
	}
	return out
}

// ybrToRGB converts full-range YCbCr (PS3.3 C.7.6.3.1.2) in place.
func ybrToRGB(px []float32, bits int) {
	half := float32(128)
	top := float32(255)
	if bits > 8 {
		half = float32(int(1) << (bits - 1))
		top = float32(int(1)<<bits - 1)
	}
	for i := 0; i+2 < len(px); i += 3 {
		y, cb, cr := px[i], px[i+1]-half, px[i+2]-half
		px[i] = clamp(y+1.402*cr, top)
		px[i+1] = clamp(y-0.344136*cb-0.714136*cr, top)
		px[i+2] = clamp(y+1.772*cb, top)
	}
}

func clamp(v, top float32) float32 {
	return min(max(v, 0), top)
}
