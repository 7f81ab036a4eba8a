package dicom

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// nativePixels is native (uncompressed) pixel data: frames of stored
// samples cut from the element's bytes. Bit-packed data (Bits Allocated 1,
// as DICOM SEG stores it) has its first sample in the lowest bit of the
// first byte, and frames that follow on without starting a byte.
type nativePixels struct {
	data     []byte
	bo       binary.ByteOrder
	bits     int // Bits Allocated: 1, 8, 16 or 32
	perFrame int // samples in a frame
}

// is422 reports native 4:2:2 YCbCr: two samples a pixel, Y Y Cb Cr for
// each pair of pixels of a row.
func (h *header) is422() bool {
	return h.samples == 3 && strings.HasSuffix(h.meta.Photometric, "_422")
}

// samplesPerFrame is the number of stored samples in a native frame.
func (h *header) samplesPerFrame() int {
	if h.is422() {
		return h.rows * (h.cols + h.cols%2) * 2
	}
	return h.rows * h.cols * h.samples
}

// native checks the pixel data's length against the geometry. vr is the
// element's VR: 8-bit and bit-packed samples in an OW element of a
// big-endian file are stored with each pair of bytes swapped.
func (h *header) native(data []byte, vr string) (*nativePixels, error) {
	if h.meta.Photometric == "YBR_PARTIAL_422" {
		return nil, fmt.Errorf("native YBR_PARTIAL_422 colour: %w", ErrUnsupportedSyntax)
	}
	p := &nativePixels{data: data, bo: binary.LittleEndian, bits: h.bitsAllocated, perFrame: h.samplesPerFrame()}
	need := (int64(p.perFrame)*int64(p.bits)*int64(h.frames) + 7) / 8
	if int64(len(data)) < need {
		return nil, fmt.Errorf("pixel data of %d bytes, %d frames need %d: %w", len(data), h.frames, need, ErrCorrupt)
	}
	if h.syntax == syntaxBigEndian {
		p.bo = binary.BigEndian
		if p.bits <= 8 && vr == "OW" {
			p.data = swapPairs(data[:need+need%2])
		}
	}
	return p, nil
}

func swapPairs(b []byte) []byte {
	out := make([]byte, len(b))
	for i := 0; i+1 < len(b); i += 2 {
		out[i], out[i+1] = b[i+1], b[i]
	}
	return out
}

// frame returns the stored sample bit patterns of frame i (native checked
// that the data holds them).
func (p *nativePixels) frame(i int) []uint32 {
	out := make([]uint32, p.perFrame)
	n := p.perFrame
	switch p.bits {
	case 1:
		first := int64(i) * int64(n)
		for k := range out {
			b := first + int64(k)
			out[k] = uint32(p.data[b/8]>>(b%8)) & 1
		}
	case 8:
		for k, v := range p.data[i*n : (i+1)*n] {
			out[k] = uint32(v)
		}
	case 16:
		d := p.data[2*i*n:]
		for k := range out {
			out[k] = uint32(p.bo.Uint16(d[2*k:]))
		}
	case 32:
		d := p.data[4*i*n:]
		for k := range out {
			out[k] = p.bo.Uint32(d[4*k:])
		}
	}
	return out
}
