package nifti

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Header sizes and magic strings of the formats read.
const (
	size1 = 348 // NIfTI-1 and Analyze 7.5
	size2 = 540 // NIfTI-2
)

// header holds the fields of a NIfTI-1, NIfTI-2 or Analyze 7.5 header that
// the reader uses, widened to the NIfTI-2 types.
type header struct {
	version    int  // 0 Analyze 7.5, 1 NIfTI-1, 2 NIfTI-2
	pair       bool // magic ni1/ni2: the voxels are in a separate .img file
	order      binary.ByteOrder
	dim        [8]int64
	datatype   int16
	pixdim     [8]float64
	voxOffset  int64
	sclSlope   float64
	sclInter   float64
	descrip    string
	qformCode  int32
	sformCode  int32
	quatern    [3]float64 // b, c, d
	qoffset    [3]float64
	srow       [3][4]float64
	intentCode int32
}

// dtype describes one NIfTI datatype code.
type dtype struct {
	size     int // bytes per voxel
	channels int
	name     string
}

var dtypes = map[int16]dtype{
	2:   {1, 1, "uint8"},
	4:   {2, 1, "int16"},
	8:   {4, 1, "int32"},
	16:  {4, 1, "float32"},
	64:  {8, 1, "float64"},
	128: {3, 3, "rgb24"},
	256: {1, 1, "int8"},
	512: {2, 1, "uint16"},
	768: {4, 1, "uint32"},
}

// sizeofHdr reads the first field of a header in either byte order.
func sizeofHdr(b []byte) (int, binary.ByteOrder, bool) {
	if len(b) < 4 {
		return 0, nil, false
	}
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch n := o.Uint32(b); n {
		case size1, size2:
			return int(n), o, true
		}
	}
	return 0, nil, false
}

// readHeader reads and parses a header from r, consuming exactly its bytes.
func readHeader(r io.Reader) (*header, error) {
	b := make([]byte, size2)
	if _, err := io.ReadFull(r, b[:4]); err != nil {
		return nil, fmt.Errorf("read header: %w", eofToTruncated(err))
	}
	n, _, ok := sizeofHdr(b)
	if !ok {
		return nil, fmt.Errorf("sizeof_hdr: %w", ErrNotNifti)
	}
	if _, err := io.ReadFull(r, b[4:n]); err != nil {
		return nil, fmt.Errorf("read header: %w", eofToTruncated(err))
	}
	return parseHeader(b[:n])
}

// parseHeader decodes a complete header (348 or 540 bytes).
func parseHeader(b []byte) (*header, error) {
	n, order, ok := sizeofHdr(b)
	if !ok {
		return nil, fmt.Errorf("sizeof_hdr: %w", ErrNotNifti)
	}
	if len(b) < n {
		return nil, fmt.Errorf("header has %d of %d bytes: %w", len(b), n, ErrTruncated)
	}
	h := &header{order: order}
	if n == size2 {
		if err := h.parse2(b); err != nil {
			return nil, err
		}
	} else {
		h.parse1(b)
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *header) parse1(b []byte) {
	o := h.order
	f32 := func(off int) float64 { return float64(math.Float32frombits(o.Uint32(b[off:]))) }
	switch string(b[344:348]) {
	case "n+1\x00":
		h.version = 1
	case "ni1\x00":
		h.version, h.pair = 1, true
	default:
		h.version, h.pair = 0, true // Analyze 7.5: always a .hdr/.img pair
	}
	for i := range h.dim {
		h.dim[i] = int64(int16(o.Uint16(b[40+2*i:])))
		h.pixdim[i] = f32(76 + 4*i)
	}
	h.intentCode = int32(int16(o.Uint16(b[68:])))
	h.datatype = int16(o.Uint16(b[70:]))
	switch vo := f32(108); {
	case bad(vo) || vo < 0:
		h.voxOffset = -1
	case vo > MaxVoxOffset:
		h.voxOffset = MaxVoxOffset + 1
	default:
		h.voxOffset = int64(vo)
	}
	h.descrip = cString(b[148:228])
	if h.version == 0 {
		h.sclSlope = 0 // Analyze: the field is unused (SPM's funused1 aside)
		return
	}
	h.sclSlope, h.sclInter = f32(112), f32(116)
	h.qformCode = int32(int16(o.Uint16(b[252:])))
	h.sformCode = int32(int16(o.Uint16(b[254:])))
	for i := 0; i < 3; i++ {
		h.quatern[i] = f32(256 + 4*i)
		h.qoffset[i] = f32(268 + 4*i)
		for j := 0; j < 4; j++ {
			h.srow[i][j] = f32(280 + 16*i + 4*j)
		}
	}
}

func (h *header) parse2(b []byte) error {
	o := h.order
	f64 := func(off int) float64 { return math.Float64frombits(o.Uint64(b[off:])) }
	switch string(b[4:12]) {
	case "n+2\x00\r\n\x1a\n":
		h.version = 2
	case "ni2\x00\r\n\x1a\n":
		h.version, h.pair = 2, true
	default:
		return fmt.Errorf("nifti-2 magic: %w", ErrNotNifti)
	}
	h.datatype = int16(o.Uint16(b[12:]))
	for i := range h.dim {
		h.dim[i] = int64(o.Uint64(b[16+8*i:]))
		h.pixdim[i] = f64(104 + 8*i)
	}
	h.voxOffset = int64(o.Uint64(b[168:]))
	h.sclSlope, h.sclInter = f64(176), f64(184)
	h.descrip = cString(b[240:320])
	h.qformCode = int32(o.Uint32(b[344:]))
	h.sformCode = int32(o.Uint32(b[348:]))
	for i := 0; i < 3; i++ {
		h.quatern[i] = f64(352 + 8*i)
		h.qoffset[i] = f64(376 + 8*i)
		for j := 0; j < 4; j++ {
			h.srow[i][j] = f64(400 + 32*i + 8*j)
		}
	}
	h.intentCode = int32(o.Uint32(b[504:]))
	return nil
}

// check validates the dimensions, datatype and offset.
func (h *header) check() error {
	nd := h.dim[0]
	if nd < 1 || nd > 7 {
		return fmt.Errorf("dim[0] = %d: %w", nd, ErrCorrupt)
	}
	for i := int64(1); i <= 7; i++ {
		if i > nd {
			h.dim[i] = 1
			continue
		}
		if h.dim[i] < 1 {
			return fmt.Errorf("dim[%d] = %d: %w", i, h.dim[i], ErrCorrupt)
		}
	}
	if _, ok := dtypes[h.datatype]; !ok {
		return fmt.Errorf("datatype %d: %w", h.datatype, ErrUnsupported)
	}
	if h.intentCode >= 3000 && h.intentCode < 3100 {
		return fmt.Errorf("CIFTI intent %d: %w", h.intentCode, ErrUnsupported)
	}
	if h.voxOffset < 0 || h.voxOffset > MaxVoxOffset {
		return fmt.Errorf("vox_offset %d: %w", h.voxOffset, ErrCorrupt)
	}
	if !h.pair && h.voxOffset < h.minOffset() {
		// Some writers leave 0 in single files: the data follow the header
		// and the 4-byte extension flag.
		h.voxOffset = h.minOffset()
	}
	if bad(h.sclSlope) || h.sclSlope == 0 {
		h.sclSlope, h.sclInter = 1, 0
	}
	if bad(h.sclInter) {
		h.sclInter = 0
	}
	return nil
}

func (h *header) minOffset() int64 {
	if h.version == 2 {
		return size2 + 4
	}
	return size1 + 4
}

// dtype returns the header's datatype (checked by parseHeader).
func (h *header) dtype() dtype { return dtypes[h.datatype] }

// volumes is the product of the dimensions past the third.
func (h *header) volumes() int64 {
	v := int64(1)
	for i := 4; i <= 7; i++ {
		v *= h.dim[i]
	}
	return v
}

// volumeBytes is the size of one 3-D volume's voxel data; it fails with
// ErrTooLarge past MaxVoxelBytes (also for the float32 samples it decodes to)
// or when the whole image's size overflows.
func (h *header) volumeBytes() (int64, error) {
	dt := h.dtype()
	n := int64(dt.size)
	for i := 1; i <= 3; i++ {
		if h.dim[i] > MaxVoxelBytes || n > MaxVoxelBytes/h.dim[i] {
			return 0, fmt.Errorf("dimensions %v: %w", h.dim[1:4], ErrTooLarge)
		}
		n *= h.dim[i]
	}
	if n/int64(dt.size)*int64(dt.channels)*4 > MaxVoxelBytes {
		return 0, fmt.Errorf("dimensions %v: %w", h.dim[1:4], ErrTooLarge)
	}
	total := n
	for i := 4; i <= 7; i++ {
		if h.dim[i] > (math.MaxInt64/2)/total {
			return 0, fmt.Errorf("dimensions %v: %w", h.dim[1:], ErrTooLarge)
		}
		total *= h.dim[i]
	}
	return n, nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// cString returns a NUL-terminated, space-trimmed text field.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), ""))
}

func eofToTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}
