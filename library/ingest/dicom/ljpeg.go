package dicom

import (
	"encoding/binary"
	"fmt"
)

// This file decodes JPEG lossless (ITU T.81 process 14, SOF3): transfer
// syntaxes .57 (any selection value) and .70 (selection value 1). It is our
// own because the codec module mispredicts the first row and first column
// for selection values other than 1 and 4 (dcmtk writes 6 by default), and
// no other pure-Go decoder is served.

// lutBits is how many bits of lookahead the table decodes at once; longer
// codes (rare: the most frequent differences get the shortest) are read
// bit by bit.
const lutBits = 9

type huffTable struct {
	maxCode [18]int32 // largest code of each length, -1 if none
	valPtr  [17]int32
	minCode [17]int32
	vals    []byte
	lut     [1 << lutBits]uint16 // code length << 8 | value; 0: longer than lutBits
}

func newHuffTable(counts []byte, vals []byte) *huffTable {
	h := &huffTable{vals: vals}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.valPtr[l], h.minCode[l] = k, code
		if l <= lutBits {
			h.fillLUT(l, code, k, n)
		}
		code += n
		k += n
		h.maxCode[l] = code - 1
		if n == 0 {
			h.maxCode[l] = -1
		}
		code <<= 1
	}
	h.maxCode[17] = 0x7fffffff
	return h
}

// fillLUT enters the n codes of length l, from code on, whose values start
// at vals[k].
func (h *huffTable) fillLUT(l int, code, k, n int32) {
	for j := range n {
		c := code + j
		if int(k+j) >= len(h.vals) || c >= 1<<l {
			return
		}
		e := uint16(l)<<8 | uint16(h.vals[k+j])
		for p := c << (lutBits - l); p < (c+1)<<(lutBits-l); p++ {
			h.lut[p] = e
		}
	}
}

// bitReader reads the entropy-coded data MSB first into a 64-bit
// accumulator, unstuffing 0xFF 0x00; at a marker it feeds zeros and stops
// before the marker, so pos never passes one.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64
	nbits  int
	marker bool // a marker was reached: feed zeros
}

func (b *bitReader) fill() {
	for b.nbits <= 56 {
		var c byte
		if !b.marker && b.pos < len(b.data) {
			c = b.data[b.pos]
			if c == 0xFF {
				next := byte(0)
				if b.pos+1 < len(b.data) {
					next = b.data[b.pos+1]
				}
				if next == 0x00 {
					b.pos += 2
				} else {
					b.marker, c = true, 0
				}
			} else {
				b.pos++
			}
		}
		b.acc |= uint64(c) << (56 - b.nbits)
		b.nbits += 8
	}
}

func (b *bitReader) bits(n int) int32 {
	if n == 0 {
		return 0
	}
	if b.nbits < n {
		b.fill()
	}
	v := int32(b.acc >> (64 - n))
	b.acc <<= n
	b.nbits -= n
	return v
}

// restart drops the bits left in the current byte and skips an RSTn marker.
func (b *bitReader) restart() {
	b.acc, b.nbits, b.marker = 0, 0, false
	for b.pos+1 < len(b.data) && !(b.data[b.pos] == 0xFF && b.data[b.pos+1] >= 0xD0 && b.data[b.pos+1] <= 0xD7) {
		b.pos++
	}
	b.pos += 2
}

func (b *bitReader) decode(h *huffTable) (int, error) {
	if b.nbits < 16 {
		b.fill()
	}
	if e := h.lut[b.acc>>(64-lutBits)]; e != 0 {
		l := int(e >> 8)
		b.acc <<= l
		b.nbits -= l
		return int(e & 0xFF), nil
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(b.acc>>63)
		b.acc <<= 1
		b.nbits--
		if h.maxCode[l] >= 0 && code <= h.maxCode[l] {
			i := h.valPtr[l] + code - h.minCode[l]
			if int(i) >= len(h.vals) {
				return 0, fmt.Errorf("%w: bad huffman code", ErrCodestream)
			}
			return int(h.vals[i]), nil
		}
	}
	return 0, fmt.Errorf("%w: bad huffman code", ErrCodestream)
}

// diff reads one difference: its category from the Huffman table, then
// that many bits. One fill serves both when the code is in the table.
func (b *bitReader) diff(h *huffTable) (int, error) {
	if b.nbits < 32 {
		b.fill()
	}
	var s int
	if e := h.lut[b.acc>>(64-lutBits)]; e != 0 {
		l := int(e >> 8)
		b.acc <<= l
		b.nbits -= l
		s = int(e & 0xFF)
	} else {
		var err error
		if s, err = b.decode(h); err != nil {
			return 0, err
		}
	}
	switch {
	case s == 0:
		return 0, nil
	case s == 16:
		return 32768, nil
	case s > 16:
		return 0, fmt.Errorf("%w: difference category %d", ErrCodestream, s)
	}
	v := int(b.bits(s))
	if v < 1<<(s-1) {
		v -= 1<<s - 1
	}
	return v, nil
}

type ljpeg struct {
	precision, width, height int
	compIDs                  []byte
	tables                   [4]*huffTable
	restart                  int
	out                      []uint32 // interleaved samples
}

// decodeLossless decodes a JPEG lossless stream into interleaved samples.
func decodeLossless(data []byte) (out []uint32, width, height, comps int, err error) {
	d := &ljpeg{}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, 0, 0, 0, fmt.Errorf("%w: no JPEG start of image", ErrCodestream)
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			i++ // entropy-coded data of the previous scan
			continue
		}
		m := data[i+1]
		if m == 0xFF || m == 0x00 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			i += 2
			continue
		}
		if m == 0xD9 {
			break
		}
		seg := int(binary.BigEndian.Uint16(data[i+2:]))
		if seg < 2 || i+2+seg > len(data) {
			return nil, 0, 0, 0, fmt.Errorf("%w: segment runs past the end", ErrCodestream)
		}
		body := data[i+4 : i+2+seg]
		switch m {
		case 0xC3:
			err = d.frame(body)
		case 0xC4:
			err = d.huffman(body)
		case 0xDD:
			if len(body) >= 2 {
				d.restart = int(binary.BigEndian.Uint16(body))
			}
		case 0xDA:
			var used int
			used, err = d.scan(body, data[i+2+seg:])
			i += used
		default:
			if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
				err = fmt.Errorf("%w: not a lossless JPEG (SOF%d)", ErrCodestream, m-0xC0)
			}
		}
		if err != nil {
			return nil, 0, 0, 0, err
		}
		i += 2 + seg
	}
	if d.out == nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: no lossless frame", ErrCodestream)
	}
	return d.out, d.width, d.height, len(d.compIDs), nil
}

func (d *ljpeg) frame(b []byte) error {
	if len(b) < 6 {
		return fmt.Errorf("%w: short frame header", ErrCodestream)
	}
	d.precision = int(b[0])
	d.height, d.width = int(binary.BigEndian.Uint16(b[1:])), int(binary.BigEndian.Uint16(b[3:]))
	n := int(b[5])
	if len(b) < 6+3*n || n == 0 || d.precision < 2 || d.precision > 16 || d.width == 0 || d.height == 0 {
		return fmt.Errorf("%w: bad lossless frame header", ErrCodestream)
	}
	for c := range n {
		if b[6+3*c+1] != 0x11 {
			return fmt.Errorf("%w: subsampled lossless JPEG", ErrCodestream)
		}
		d.compIDs = append(d.compIDs, b[6+3*c])
	}
	if int64(d.width)*int64(d.height)*int64(n) > MaxValues {
		return ErrTooLarge
	}
	d.out = make([]uint32, d.width*d.height*n)
	return nil
}

func (d *ljpeg) huffman(b []byte) error {
	for len(b) >= 17 {
		id := b[0] & 0x0F
		counts := b[1:17]
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if id > 3 || len(b) < 17+total {
			return fmt.Errorf("%w: bad huffman table", ErrCodestream)
		}
		d.tables[id] = newHuffTable(counts, b[17:17+total])
		b = b[17+total:]
	}
	return nil
}

// scan decodes one scan; it returns how many bytes of rest it consumed.
func (d *ljpeg) scan(hdr, rest []byte) (int, error) {
	if d.out == nil || len(hdr) < 1 {
		return 0, fmt.Errorf("%w: scan before frame", ErrCodestream)
	}
	ns := int(hdr[0])
	if len(hdr) < 1+2*ns+3 || ns == 0 {
		return 0, fmt.Errorf("%w: short scan header", ErrCodestream)
	}
	comps := make([]int, ns)
	tabs := make([]*huffTable, ns)
	for k := range ns {
		comps[k] = -1
		for c, id := range d.compIDs {
			if id == hdr[1+2*k] {
				comps[k] = c
			}
		}
		tabs[k] = d.tables[hdr[2+2*k]>>4&3]
		if comps[k] < 0 || tabs[k] == nil {
			return 0, fmt.Errorf("%w: scan names an unknown component or table", ErrCodestream)
		}
	}
	sel, pt := int(hdr[1+2*ns]), int(hdr[3+2*ns]&0x0F)
	if sel < 1 || sel > 7 {
		return 0, fmt.Errorf("%w: selection value %d", ErrCodestream, sel)
	}
	br := &bitReader{data: rest}
	if err := d.decodeScan(br, comps, tabs, sel, pt); err != nil {
		return 0, err
	}
	return br.pos, nil
}

func (d *ljpeg) decodeScan(br *bitReader, comps []int, tabs []*huffTable, sel, pt int) error {
	nc := len(d.compIDs)
	w := d.width
	out := d.out
	mask := 1<<(d.precision-pt) - 1
	first := 0 // index of the first row of the current restart interval
	count := 0
	for y := range d.height {
		if d.restart == 0 && y > 0 {
			if err := d.decodeRow(br, comps, tabs, sel, pt, y); err != nil {
				return err
			}
			continue
		}
		for x := range w {
			startOfInterval := d.restart > 0 && count%d.restart == 0
			if startOfInterval && count > 0 {
				br.restart()
				first = y
				if x != 0 {
					first = -1 // interval not at a row start: only x resets
				}
			}
			count++
			i := (y*w + x) * nc
			for k, c := range comps {
				diff, err := br.diff(tabs[k])
				if err != nil {
					return err
				}
				p := i + c
				var pred int
				switch {
				case (y == 0 && x == 0) || startOfInterval:
					pred = 1 << (d.precision - pt - 1)
				case y == first || y == 0:
					pred = int(out[p-nc]) >> pt
				case x == 0:
					pred = int(out[p-w*nc]) >> pt
				default:
					pred = predict(sel, int(out[p-nc])>>pt, int(out[p-w*nc])>>pt, int(out[p-w*nc-nc])>>pt)
				}
				out[p] = uint32(((pred + diff) & mask) << pt)
			}
		}
	}
	return nil
}

// decodeRow decodes row y > 0 of a scan without restart intervals: the
// first sample predicted from above, the others by the selection value.
func (d *ljpeg) decodeRow(br *bitReader, comps []int, tabs []*huffTable, sel, pt, y int) error {
	nc, w, out := len(d.compIDs), d.width, d.out
	mask := 1<<(d.precision-pt) - 1
	row, up := out[y*w*nc:(y+1)*w*nc], out[(y-1)*w*nc:y*w*nc]
	for k, c := range comps {
		diff, err := br.diff(tabs[k])
		if err != nil {
			return err
		}
		row[c] = uint32(((int(up[c])>>pt + diff) & mask) << pt)
	}
	for x := 1; x < w; x++ {
		for k, c := range comps {
			diff, err := br.diff(tabs[k])
			if err != nil {
				return err
			}
			p := x*nc + c
			pred := predict(sel, int(row[p-nc])>>pt, int(up[p])>>pt, int(up[p-nc])>>pt)
			row[p] = uint32(((pred + diff) & mask) << pt)
		}
	}
	return nil
}

func predict(sel, ra, rb, rc int) int {
	switch sel {
	case 1:
		return ra
	case 2:
		return rb
	case 3:
		return rc
	case 4:
		return ra + rb - rc
	case 5:
		return ra + (rb-rc)>>1
	case 6:
		return rb + (ra-rc)>>1
	}
	return (ra + rb) >> 1
}
