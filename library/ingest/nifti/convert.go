package nifti

import "math"

// convert decodes raw voxel bytes (one volume, in file order) to float32,
// applying scl_slope and scl_inter to grey datatypes (RGB24 is never scaled).
// Non-finite values (NaN outside a resampled brain, say) read as 0: they
// would poison every sum the viewer and the encoder take.
func (h *header) convert(raw []byte) []float32 {
	out := h.decode(raw)
	for i, v := range out {
		if v != v || math.IsInf(float64(v), 0) {
			out[i] = 0
		}
	}
	return out
}

func (h *header) decode(raw []byte) []float32 {
	o := h.order
	dt := h.dtype()
	n := len(raw) / dt.size
	out := make([]float32, n*dt.channels)
	if h.datatype != 128 && (h.sclSlope != 1 || h.sclInter != 0) {
		// Scale in float64, as nibabel's get_fdata does, so that 32-bit
		// integers lose no precision before scaling.
		for i := range out {
			out[i] = float32(h.rawValue(raw, i)*h.sclSlope + h.sclInter)
		}
		return out
	}
	switch h.datatype {
	case 2: // uint8
		for i := range out {
			out[i] = float32(raw[i])
		}
	case 256: // int8
		for i := range out {
			out[i] = float32(int8(raw[i]))
		}
	case 128: // rgb24: R, G, B per voxel, never scaled
		for i := range out {
			out[i] = float32(raw[i])
		}
		return out
	case 4: // int16
		for i := range out {
			out[i] = float32(int16(o.Uint16(raw[2*i:])))
		}
	case 512: // uint16
		for i := range out {
			out[i] = float32(o.Uint16(raw[2*i:]))
		}
	case 8, 768, 16, 64:
		h.convertWide(raw, out)
	}
	return out
}

// convertWide decodes the 32- and 64-bit datatypes.
func (h *header) convertWide(raw []byte, out []float32) {
	o := h.order
	switch h.datatype {
	case 8: // int32
		for i := range out {
			out[i] = float32(int32(o.Uint32(raw[4*i:])))
		}
	case 768: // uint32
		for i := range out {
			out[i] = float32(o.Uint32(raw[4*i:]))
		}
	case 16: // float32
		for i := range out {
			out[i] = math.Float32frombits(o.Uint32(raw[4*i:]))
		}
	case 64: // float64
		for i := range out {
			out[i] = float32(math.Float64frombits(o.Uint64(raw[8*i:])))
		}
	}
}

// rawValue returns voxel i of a grey datatype as float64.
func (h *header) rawValue(raw []byte, i int) float64 {
	o := h.order
	switch h.datatype {
	case 2:
		return float64(raw[i])
	case 256:
		return float64(int8(raw[i]))
	case 4:
		return float64(int16(o.Uint16(raw[2*i:])))
	case 512:
		return float64(o.Uint16(raw[2*i:]))
	case 8:
		return float64(int32(o.Uint32(raw[4*i:])))
	case 768:
		return float64(o.Uint32(raw[4*i:]))
	case 16:
		return float64(math.Float32frombits(o.Uint32(raw[4*i:])))
	}
	return math.Float64frombits(o.Uint64(raw[8*i:]))
}
