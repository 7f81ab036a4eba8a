package export

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// The element level of a DICOM file, read and written without decoding
// values: what the profile keeps is copied byte for byte (the pixel data,
// encapsulated or native, above all); only the attributes it changes are
// encoded again.

// Transfer syntaxes whose encoding differs from explicit VR little endian.
const (
	tsImplicitLE = "1.2.840.10008.1.2"
	tsExplicitLE = "1.2.840.10008.1.2.1"
	tsExplicitBE = "1.2.840.10008.1.2.2"
	tsDeflated   = "1.2.840.10008.1.2.1.99"
)

const (
	tagItem       = 0xFFFEE000
	tagItemDelim  = 0xFFFEE00D
	tagSeqDelim   = 0xFFFEE0DD
	undefinedLen  = 0xFFFFFFFF
	maxNestedSeqs = 64
)

// ErrMalformed is returned for a file that is not a DICOM file this
// package can rewrite.
var ErrMalformed = errors.New("not a readable DICOM file")

// element is one data element. A sequence has items; encapsulated pixel
// data keeps its raw fragments (through the sequence delimiter) in value.
type element struct {
	tag   uint32
	vr    string // "" when implicit VR and the dictionary does not know the tag
	value []byte
	items [][]*element
	seq   bool
	// encapsulated: an undefined-length value that is not a sequence,
	// copied verbatim.
	encapsulated bool
	// implicitItems: a UN sequence of undefined length, whose items are
	// implicit VR little endian (PS3.5 6.2.2).
	implicitItems bool
}

func (e *element) group() uint16 { return uint16(e.tag >> 16) }
func (e *element) elem() uint16  { return uint16(e.tag) }

// file is a parsed DICOM file: its meta information and its data set.
type file struct {
	meta   []*element
	data   []*element
	syntax string
}

// codec is the encoding of a data set.
type codec struct {
	bo       binary.ByteOrder
	implicit bool
}

func codecOf(syntax string) codec {
	switch syntax {
	case tsImplicitLE:
		return codec{binary.LittleEndian, true}
	case tsExplicitBE:
		return codec{binary.BigEndian, false}
	}
	return codec{binary.LittleEndian, false}
}

// longVR lists the explicit VRs with a 4-byte length.
var longVR = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "UC": true, "UN": true, "UR": true, "UT": true, "SV": true, "UV": true}

// reader walks the bytes of a data set.
type reader struct {
	buf   []byte
	pos   int
	c     codec
	depth int
}

func (r *reader) need(n int) error {
	if n < 0 || r.pos+n > len(r.buf) {
		return fmt.Errorf("%w: value runs past the end of the file", ErrMalformed)
	}
	return nil
}

func (r *reader) u16() (uint16, error) {
	if err := r.need(2); err != nil {
		return 0, err
	}
	v := r.c.bo.Uint16(r.buf[r.pos:])
	r.pos += 2
	return v, nil
}

func (r *reader) u32() (uint32, error) {
	if err := r.need(4); err != nil {
		return 0, err
	}
	v := r.c.bo.Uint32(r.buf[r.pos:])
	r.pos += 4
	return v, nil
}

func (r *reader) tag() (uint32, error) {
	g, err := r.u16()
	if err != nil {
		return 0, err
	}
	e, err := r.u16()
	return uint32(g)<<16 | uint32(e), err
}

// header reads an element's VR and length after its tag.
func (r *reader) header(t uint32) (string, uint32, error) {
	if r.c.implicit || t>>16 == 0xFFFE {
		n, err := r.u32()
		return dictVR(t), n, err
	}
	if err := r.need(2); err != nil {
		return "", 0, err
	}
	vr := string(r.buf[r.pos : r.pos+2])
	r.pos += 2
	if vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z' {
		return "", 0, fmt.Errorf("%w: bad VR in (%04X,%04X)", ErrMalformed, t>>16, t&0xFFFF)
	}
	if !longVR[vr] {
		n, err := r.u16()
		return vr, uint32(n), err
	}
	r.pos += 2
	n, err := r.u32()
	return vr, n, err
}

// dictVR is the dictionary VR of a tag ("" when unknown).
func dictVR(t uint32) string {
	info, err := tag.Find(tag.Tag{Group: uint16(t >> 16), Element: uint16(t)})
	if err != nil || len(info.VRs) == 0 {
		return ""
	}
	return info.VRs[0]
}

// dataset reads elements up to end, or up to an item delimiter when
// untilDelim.
func (r *reader) dataset(end int, untilDelim bool) ([]*element, error) {
	var out []*element
	for r.pos < end {
		if r.depth == 0 && !untilDelim && zeros(r.buf[r.pos:end]) {
			r.pos = end // trailing padding some writers leave: dropped
			break
		}
		t, err := r.tag()
		if err != nil {
			return nil, err
		}
		if t == tagItemDelim && untilDelim {
			_, err := r.u32()
			return out, err
		}
		e, err := r.element(t)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if untilDelim {
		return nil, fmt.Errorf("%w: item without delimiter", ErrMalformed)
	}
	return out, nil
}

func (r *reader) element(t uint32) (*element, error) {
	vr, n, err := r.header(t)
	if err != nil {
		return nil, err
	}
	e := &element{tag: t, vr: vr}
	switch {
	case vr == "SQ" || (n == undefinedLen && vr == "UN") || (n == undefinedLen && r.c.implicit && t != 0x7FE00010):
		e.seq = true
		e.implicitItems = vr == "UN" && !r.c.implicit
		return e, r.sequence(e, n)
	case n == undefinedLen:
		e.encapsulated = true
		start := r.pos
		if err := r.skipFragments(); err != nil {
			return nil, err
		}
		e.value = r.buf[start:r.pos]
		return e, nil
	}
	if err := r.need(int(n)); err != nil {
		return nil, err
	}
	e.value = r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return e, nil
}

// zeros reports whether b is all zero bytes (false for an element, whose
// tag is never (0000,0000) in a data set).
func zeros(b []byte) bool {
	if len(b) < 4 || b[0]|b[1]|b[2]|b[3] != 0 {
		return false
	}
	return len(bytes.TrimLeft(b, "\x00")) == 0
}

// skipFragments passes the items of encapsulated pixel data and its
// sequence delimiter.
func (r *reader) skipFragments() error {
	for {
		t, err := r.tag()
		if err != nil {
			return err
		}
		n, err := r.u32()
		if err != nil {
			return err
		}
		switch t {
		case tagSeqDelim:
			return nil
		case tagItem:
			if err := r.need(int(n)); err != nil {
				return err
			}
			r.pos += int(n)
		default:
			return fmt.Errorf("%w: bad fragment in encapsulated data", ErrMalformed)
		}
	}
}

func (r *reader) sequence(e *element, n uint32) error {
	if r.depth >= maxNestedSeqs {
		return fmt.Errorf("%w: sequences nested too deep", ErrMalformed)
	}
	saved := r.c
	if e.implicitItems {
		r.c = codec{binary.LittleEndian, true}
	}
	r.depth++
	defer func() { r.c, r.depth = saved, r.depth-1 }()
	end := len(r.buf)
	if n != undefinedLen {
		if err := r.need(int(n)); err != nil {
			return err
		}
		end = r.pos + int(n)
	}
	for r.pos < end {
		t, err := r.tag()
		if err != nil {
			return err
		}
		ln, err := r.u32()
		if err != nil {
			return err
		}
		if t == tagSeqDelim {
			return nil
		}
		if t != tagItem {
			return fmt.Errorf("%w: bad item in sequence (%04X,%04X)", ErrMalformed, e.tag>>16, e.tag&0xFFFF)
		}
		item, err := r.item(ln)
		if err != nil {
			return err
		}
		e.items = append(e.items, item)
	}
	if n == undefinedLen {
		return fmt.Errorf("%w: sequence without delimiter", ErrMalformed)
	}
	return nil
}

func (r *reader) item(n uint32) ([]*element, error) {
	if n == undefinedLen {
		return r.dataset(len(r.buf), true)
	}
	if err := r.need(int(n)); err != nil {
		return nil, err
	}
	return r.dataset(r.pos+int(n), false)
}

// parseFile reads a DICOM file: a Part 10 file (preamble, "DICM", meta
// information) or a bare data set in implicit or explicit VR little endian.
func parseFile(buf []byte) (*file, error) {
	f := &file{}
	body := 0
	if len(buf) >= 132 && string(buf[128:132]) == "DICM" {
		r := &reader{buf: buf, pos: 132, c: codec{binary.LittleEndian, false}}
		end, err := metaEnd(r)
		if err != nil {
			return nil, err
		}
		if f.meta, err = r.dataset(end, false); err != nil {
			return nil, err
		}
		f.syntax = trimUID(findValue(f.meta, 0x00020010))
		body = r.pos
	} else {
		f.syntax = guessSyntax(buf)
	}
	data := buf[body:]
	if f.syntax == tsDeflated {
		var err error
		if data, err = io.ReadAll(flate.NewReader(bytes.NewReader(data))); err != nil {
			return nil, fmt.Errorf("%w: deflated data set: %v", ErrMalformed, err)
		}
	}
	r := &reader{buf: data, c: codecOf(f.syntax)}
	var err error
	if f.data, err = r.dataset(len(data), false); err != nil {
		return nil, err
	}
	return f, nil
}

// metaEnd reads (0002,0000) and returns where the meta information ends.
func metaEnd(r *reader) (int, error) {
	start := r.pos
	t, err := r.tag()
	if err != nil || t != 0x00020000 {
		// no group length: the meta group ends where group 0002 does
		r.pos = start
		return metaScan(r)
	}
	vr, n, err := r.header(t)
	if err != nil || vr != "UL" || n != 4 {
		return 0, fmt.Errorf("%w: bad meta information length", ErrMalformed)
	}
	l, err := r.u32()
	if err != nil || r.pos+int(l) > len(r.buf) {
		return 0, fmt.Errorf("%w: bad meta information length", ErrMalformed)
	}
	return r.pos + int(l), nil
}

// metaScan finds the end of a meta group that has no group length.
func metaScan(r *reader) (int, error) {
	probe := &reader{buf: r.buf, pos: r.pos, c: r.c}
	for probe.pos+2 <= len(probe.buf) && binary.LittleEndian.Uint16(probe.buf[probe.pos:]) == 0x0002 {
		t, err := probe.tag()
		if err != nil {
			return 0, err
		}
		if _, err := probe.element(t); err != nil {
			return 0, err
		}
	}
	return probe.pos, nil
}

// guessSyntax tells implicit from explicit VR little endian in a bare data
// set by the bytes after the first tag.
func guessSyntax(buf []byte) string {
	if len(buf) >= 6 && buf[4] >= 'A' && buf[4] <= 'Z' && buf[5] >= 'A' && buf[5] <= 'Z' {
		return tsExplicitLE
	}
	return tsImplicitLE
}

// find returns the element with tag t in elems, or nil.
func find(elems []*element, t uint32) *element {
	i, ok := slices.BinarySearchFunc(elems, t, func(e *element, t uint32) int { return cmpTag(e.tag, t) })
	if ok {
		return elems[i]
	}
	for _, e := range elems { // a data set out of order
		if e.tag == t {
			return e
		}
	}
	return nil
}

func cmpTag(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// findValue is the text of an element's value ("" when absent).
func findValue(elems []*element, t uint32) string {
	if e := find(elems, t); e != nil && !e.seq && !e.encapsulated {
		return string(e.value)
	}
	return ""
}

// trimUID removes a UID's padding.
func trimUID(s string) string { return string(bytes.TrimRight([]byte(s), "\x00 ")) }

// put sets element t (adding it in tag order when absent) to a text
// value, padded to even length as its VR asks.
func put(elems []*element, t uint32, vr, value string) []*element {
	e := find(elems, t)
	if e == nil {
		e = &element{tag: t, vr: vr}
		elems = append(elems, e)
		slices.SortStableFunc(elems, func(a, b *element) int { return cmpTag(a.tag, b.tag) })
	}
	e.seq, e.items, e.encapsulated = false, nil, false
	e.value = pad(value, e.vr)
	return elems
}

// pad makes a text value even in length: UIDs with a NUL, text with a
// space.
func pad(v, vr string) []byte {
	b := []byte(v)
	if len(b)%2 == 1 {
		if vr == "UI" {
			return append(b, 0)
		}
		return append(b, ' ')
	}
	return b
}
