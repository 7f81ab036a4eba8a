package dicom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cocosip/go-dicom-codecs/jpeg/extended"
	"github.com/cocosip/go-dicom-codecs/jpeg2000"
	jlslossless "github.com/cocosip/go-dicom-codecs/jpegls/lossless"
	"github.com/cocosip/go-dicom-codecs/jpegls/nearlossless"
	"github.com/cocosip/go-dicom-codecs/rle"
	"github.com/cocosip/go-dicom/pkg/imaging/imagetypes"
)

// Transfer syntaxes this package decodes besides the native ones.
const (
	syntaxJPEGBaseline   = "1.2.840.10008.1.2.4.50"
	syntaxJPEGExtended   = "1.2.840.10008.1.2.4.51"
	syntaxJPEGLossless   = "1.2.840.10008.1.2.4.57"
	syntaxJPEGLosslessSV = "1.2.840.10008.1.2.4.70"
	syntaxJPEGLS         = "1.2.840.10008.1.2.4.80"
	syntaxJPEGLSNear     = "1.2.840.10008.1.2.4.81"
	syntaxJ2KLossless    = "1.2.840.10008.1.2.4.90"
	syntaxJ2K            = "1.2.840.10008.1.2.4.91"
	syntaxRLE            = "1.2.840.10008.1.2.5"
	syntaxBigEndian      = "1.2.840.10008.1.2.2"
)

// ErrCodestream is wrapped when a compressed frame does not agree with the
// DICOM header (size, components) or cannot be decoded.
var ErrCodestream = errors.New("compressed frame does not match the header")

// decodeCompressed decodes one encapsulated frame into stored sample bit
// patterns, pixel-interleaved unless planar is true. The codestream's own
// size is checked against Rows, Columns and Samples per Pixel first: the
// codecs allocate what the stream declares.
func (h *header) decodeCompressed(data []byte) (raw []uint32, planar bool, err error) {
	switch h.syntax {
	case syntaxRLE:
		raw, err = h.decodeRLE(data)
		return raw, h.planar, err
	case syntaxJ2KLossless, syntaxJ2K:
		raw, err = h.decodeJ2K(data)
		return raw, false, err
	}
	w, ht, comps, err := jpegFrameSize(data)
	if err != nil {
		return nil, false, err
	}
	if err := h.checkSize(w, ht, comps); err != nil {
		return nil, false, err
	}
	var px []byte
	var bits int
	switch h.syntax {
	case syntaxJPEGExtended:
		px, w, ht, comps, bits, err = extended.Decode(data)
	case syntaxJPEGLossless, syntaxJPEGLosslessSV:
		if raw, w, ht, comps, err = decodeLossless(data); err != nil {
			return nil, false, fmt.Errorf("decode %s: %w", syntaxName(h.syntax), err)
		}
		return raw, false, h.checkSize(w, ht, comps)
	case syntaxJPEGLS:
		px, w, ht, comps, bits, err = jlslossless.Decode(data)
	case syntaxJPEGLSNear:
		px, w, ht, comps, bits, _, err = nearlossless.Decode(data)
	default:
		return nil, false, fmt.Errorf("%s %s: %w", syntaxName(h.syntax), syntaxText(h.syntax), ErrUnsupportedSyntax)
	}
	if err != nil {
		return nil, false, fmt.Errorf("decode %s: %w", syntaxName(h.syntax), err)
	}
	if err := h.checkSize(w, ht, comps); err != nil {
		return nil, false, err
	}
	raw, err = unpack(px, w*ht*comps, bits)
	return raw, false, err
}

func (h *header) checkSize(w, ht, comps int) error {
	if w != h.cols || ht != h.rows || comps != h.samples {
		return fmt.Errorf("%w: stream is %dx%d×%d, header says %dx%d×%d", ErrCodestream, w, ht, comps, h.cols, h.rows, h.samples)
	}
	return nil
}

// unpack reads n samples of 8 bits, or of 16 bits little endian.
func unpack(px []byte, n, bits int) ([]uint32, error) {
	out := make([]uint32, n)
	if bits <= 8 {
		if len(px) < n {
			return nil, fmt.Errorf("%w: %d bytes for %d samples", ErrCodestream, len(px), n)
		}
		for i := range out {
			out[i] = uint32(px[i])
		}
		return out, nil
	}
	if len(px) < 2*n {
		return nil, fmt.Errorf("%w: %d bytes for %d samples", ErrCodestream, len(px), n)
	}
	for i := range out {
		out[i] = uint32(binary.LittleEndian.Uint16(px[2*i:]))
	}
	return out, nil
}

// jpegFrameSize reads the frame header (any SOFn, or JPEG-LS SOF55) of a
// JPEG-family stream.
func jpegFrameSize(data []byte) (w, h, comps int, err error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, 0, 0, fmt.Errorf("%w: no JPEG start of image", ErrCodestream)
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 0, 0, 0, fmt.Errorf("%w: JPEG marker expected at %d", ErrCodestream, i)
		}
		m := data[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			i += 2
			continue
		}
		seg := int(binary.BigEndian.Uint16(data[i+2:]))
		isSOF := (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xF7
		if isSOF {
			if i+10 > len(data) || seg < 8 {
				return 0, 0, 0, fmt.Errorf("%w: short frame header", ErrCodestream)
			}
			h = int(binary.BigEndian.Uint16(data[i+5:]))
			w = int(binary.BigEndian.Uint16(data[i+7:]))
			return w, h, int(data[i+9]), nil
		}
		if m == 0xDA || seg < 2 {
			break
		}
		i += 2 + seg
	}
	return 0, 0, 0, fmt.Errorf("%w: no JPEG frame header", ErrCodestream)
}

// j2kCodestream strips a JP2 file wrapper if there is one and checks the
// SIZ marker against the header.
func (h *header) j2kCodestream(data []byte) ([]byte, error) {
	if len(data) >= 12 && bytes.Equal(data[4:8], []byte("jP  ")) {
		k := bytes.Index(data, []byte("jp2c"))
		if k < 0 {
			return nil, fmt.Errorf("%w: JP2 file without a codestream", ErrCodestream)
		}
		data = data[k+4:]
	}
	if len(data) < 42 || !bytes.Equal(data[:4], []byte{0xFF, 0x4F, 0xFF, 0x51}) {
		return nil, fmt.Errorf("%w: no JPEG 2000 SIZ marker", ErrCodestream)
	}
	// SIZ: Lsiz(2) Rsiz(2) Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz (4 each) Csiz(2)
	u := func(off int) int { return int(binary.BigEndian.Uint32(data[off:])) }
	w, ht := u(8)-u(16), u(12)-u(20)
	comps := int(binary.BigEndian.Uint16(data[40:]))
	return data, h.checkSize(w, ht, comps)
}

func (h *header) decodeJ2K(data []byte) ([]uint32, error) {
	cs, err := h.j2kCodestream(data)
	if err != nil {
		return nil, err
	}
	out := make([]uint32, h.rows*h.cols*h.samples)
	c, err := cutJ2K(cs)
	if err != nil || len(c.order) <= 1 { // one tile (or tiles not found): the codec reads it whole
		return out, h.decodeJ2KTile(cs, out, 0, 0, h.cols, h.rows)
	}
	if err := c.checkSplittable(); err != nil {
		return nil, err
	}
	g := c.grid()
	for _, t := range c.order {
		x0, y0, x1, y1 := g.tileRect(t)
		if x1 <= x0 || y1 <= y0 {
			return nil, fmt.Errorf("%w: JPEG 2000 tile %d is outside the image", ErrCodestream, t)
		}
		if err := h.decodeJ2KTile(c.single(t), out, x0-g.x0, y0-g.y0, x1-x0, y1-y0); err != nil {
			return nil, fmt.Errorf("tile %d: %w", t, err)
		}
	}
	return out, nil
}

// decodeJ2KTile decodes a codestream of w × ht pixels into out (the
// frame, pixel-interleaved) at x, y.
func (h *header) decodeJ2KTile(cs []byte, out []uint32, x, y, w, ht int) error {
	dec := jpeg2000.NewDecoder()
	if err := dec.Decode(cs); err != nil {
		return fmt.Errorf("decode %s: %w", syntaxName(h.syntax), err)
	}
	if dec.Width() != w || dec.Height() != ht || dec.Components() != h.samples {
		return fmt.Errorf("%w: tile is %dx%d×%d, expected %dx%d×%d", ErrCodestream,
			dec.Width(), dec.Height(), dec.Components(), w, ht, h.samples)
	}
	planes := dec.GetImageData()
	for c := range h.samples {
		if c >= len(planes) || len(planes[c]) < w*ht {
			return fmt.Errorf("%w: component %d is short", ErrCodestream, c)
		}
		for row := range ht {
			base := ((y+row)*h.cols + x) * h.samples
			for col, v := range planes[c][row*w : (row+1)*w] {
				out[base+col*h.samples+c] = uint32(v) // two's complement kept for signed data
			}
		}
	}
	return nil
}

func (h *header) decodeRLE(data []byte) ([]uint32, error) {
	if len(data) < 64 {
		return nil, fmt.Errorf("%w: RLE header is short", ErrCodestream)
	}
	info := &imagetypes.FrameInfo{
		Width: uint16(h.cols), Height: uint16(h.rows), BitsAllocated: uint16(h.bitsAllocated),
		BitsStored: uint16(h.bitsStored), SamplesPerPixel: uint16(h.samples),
		PhotometricInterpretation: h.meta.Photometric,
	}
	if h.planar {
		info.PlanarConfiguration = 1
	}
	src := &framePixels{info: info, frames: [][]byte{data}, encapsulated: true}
	dst := &framePixels{info: info}
	if err := rle.NewRLECodec().Decode(src, dst, nil); err != nil {
		return nil, fmt.Errorf("decode RLE: %w", err)
	}
	n := h.rows * h.cols * h.samples
	px := dst.frames[0]
	switch (h.bitsAllocated + 7) / 8 {
	case 1:
		return unpack(px, n, 8)
	case 2:
		return unpack(px, n, 16)
	case 4:
		if len(px) < 4*n {
			return nil, fmt.Errorf("%w: RLE frame is short", ErrCodestream)
		}
		out := make([]uint32, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint32(px[4*i:])
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: RLE with %d bits allocated", ErrCodestream, h.bitsAllocated)
}

// framePixels is the codec module's PixelData for one frame in memory.
type framePixels struct {
	info         *imagetypes.FrameInfo
	frames       [][]byte
	encapsulated bool
}

func (p *framePixels) GetFrame(i int) ([]byte, error) {
	if i < 0 || i >= len(p.frames) {
		return nil, fmt.Errorf("frame %d out of range", i)
	}
	return p.frames[i], nil
}
func (p *framePixels) AddFrame(b []byte) error                 { p.frames = append(p.frames, b); return nil }
func (p *framePixels) FrameCount() int                         { return len(p.frames) }
func (p *framePixels) GetFrameInfo() *imagetypes.FrameInfo     { return p.info }
func (p *framePixels) IsEncapsulated() bool                    { return p.encapsulated }
func (p *framePixels) SetFrameInfo(info *imagetypes.FrameInfo) { p.info = info }
