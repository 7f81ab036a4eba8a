package pacs

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Transfer syntaxes whose dataset is not explicit VR little endian.
const (
	tsImplicit  = "1.2.840.10008.1.2"
	tsBigEndian = "1.2.840.10008.1.2.2"
	tsDeflated  = "1.2.840.10008.1.2.1.99"
)

const (
	tagStudyUIDBin  = 0x0020000D
	tagSeriesUIDBin = 0x0020000E
	undefinedLength = 0xFFFFFFFF
	// headerScan bounds the dataset bytes read to find the UIDs (after
	// inflation, for a deflated dataset).
	headerScan = 64 << 20
	// maxNesting bounds sequences within sequences while skipping them.
	maxNesting = 16
)

// errHeader: a header the UID reader cannot follow.
var errHeader = errors.New("DICOM header not readable")

// instanceUIDs reads the Study and Series Instance UIDs of a DICOM Part 10
// stream (128-byte preamble, DICM, file meta group, dataset), skipping
// every value before them without keeping it; it reads no further than
// group 0020.
func instanceUIDs(r io.Reader) (study, series string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Discard(132); err != nil {
		return "", "", fmt.Errorf("%w: %v", errHeader, err)
	}
	ts, err := metaSyntax(br)
	if err != nil {
		return "", "", err
	}
	d := &dsReader{order: binary.LittleEndian, explicit: true}
	var src io.Reader = br
	switch ts {
	case tsImplicit:
		d.explicit = false
	case tsBigEndian:
		d.order = binary.BigEndian
	case tsDeflated:
		src = flate.NewReader(br)
	case "": // no transfer syntax: the first element says
		head, _ := br.Peek(6)
		d.explicit = len(head) == 6 && isVR(head[4:6])
	}
	d.r = bufio.NewReader(&capReader{r: src, left: headerScan, what: "no Study and Series UIDs near the start"})
	return d.uids()
}

// metaSyntax reads the file meta group (explicit VR little endian) and
// returns its transfer syntax ("" when it has none).
func metaSyntax(br *bufio.Reader) (string, error) {
	d := &dsReader{r: br, order: binary.LittleEndian, explicit: true}
	ts := ""
	for {
		head, err := br.Peek(2)
		if err != nil || binary.LittleEndian.Uint16(head) != 0x0002 {
			return ts, nil
		}
		tag, length, _, err := d.element()
		if err != nil || length == undefinedLength {
			return "", fmt.Errorf("%w: file meta group", errHeader)
		}
		if tag != 0x00020010 {
			if err := d.skip(length); err != nil {
				return "", err
			}
			continue
		}
		if ts, err = d.text(length); err != nil {
			return "", err
		}
	}
}

// dsReader reads dataset elements in one encoding.
type dsReader struct {
	r        *bufio.Reader
	order    binary.ByteOrder
	explicit bool
}

// uids scans the top level of the dataset for the two UIDs.
func (d *dsReader) uids() (study, series string, err error) {
	for study == "" || series == "" {
		tag, length, vr, err := d.element()
		if errors.Is(err, io.EOF) || (err == nil && tag > tagSeriesUIDBin) {
			break
		}
		switch {
		case err != nil:
			return "", "", err
		case length == undefinedLength:
			err = d.inner(vr).sequence(0)
		case tag == tagStudyUIDBin:
			study, err = d.text(length)
		case tag == tagSeriesUIDBin:
			series, err = d.text(length)
		default:
			err = d.skip(length)
		}
		if err != nil {
			return "", "", err
		}
	}
	return study, series, nil
}

// element reads an element's tag, value length and (explicit VR) VR; item
// and delimitation tags have no VR.
func (d *dsReader) element() (tag, length uint32, vr string, err error) {
	var b [8]byte
	if _, err := io.ReadFull(d.r, b[:4]); err != nil {
		return 0, 0, "", err // io.EOF here: the dataset ends
	}
	tag = uint32(d.order.Uint16(b[:2]))<<16 | uint32(d.order.Uint16(b[2:4]))
	if _, err := io.ReadFull(d.r, b[:4]); err != nil {
		return 0, 0, "", cut(err)
	}
	if !d.explicit || tag>>16 == 0xFFFE {
		return tag, d.order.Uint32(b[:4]), "", nil
	}
	switch vr = string(b[:2]); vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		if _, err := io.ReadFull(d.r, b[4:8]); err != nil {
			return 0, 0, "", cut(err)
		}
		return tag, d.order.Uint32(b[4:8]), vr, nil
	}
	return tag, uint32(d.order.Uint16(b[2:4])), vr, nil
}

// inner is the reader of the items of a sequence of undefined length: an
// UN one holds implicit VR little endian (PS3.5 6.2.2).
func (d *dsReader) inner(vr string) *dsReader {
	if vr != "UN" {
		return d
	}
	return &dsReader{r: d.r, order: binary.LittleEndian}
}

// sequence skips the items of a sequence of undefined length, up to its
// delimiter.
func (d *dsReader) sequence(depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%w: sequences nested too deep", errHeader)
	}
	for {
		tag, length, _, err := d.element()
		switch {
		case err != nil:
			return cut(err)
		case tag == 0xFFFEE0DD:
			return nil
		case tag != 0xFFFEE000:
			return fmt.Errorf("%w: a sequence without items", errHeader)
		case length != undefinedLength:
			err = d.skip(length)
		default:
			err = d.item(depth)
		}
		if err != nil {
			return err
		}
	}
}

// item skips the elements of an item of undefined length, up to its
// delimiter.
func (d *dsReader) item(depth int) error {
	for {
		tag, length, vr, err := d.element()
		switch {
		case err != nil:
			return cut(err)
		case tag == 0xFFFEE00D:
			return nil
		case length == undefinedLength:
			err = d.inner(vr).sequence(depth + 1)
		default:
			err = d.skip(length)
		}
		if err != nil {
			return err
		}
	}
}

func (d *dsReader) skip(n uint32) error {
	_, err := d.r.Discard(int(n))
	return cut(err)
}

// text reads a short text value (a UID), without its padding.
func (d *dsReader) text(n uint32) (string, error) {
	if n > 256 {
		return "", fmt.Errorf("%w: a UID of %d bytes", errHeader, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return "", cut(err)
	}
	return strings.TrimRight(string(b), "\x00 "), nil
}

// cut turns an end of input inside an element into an error.
func cut(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %v", errHeader, io.ErrUnexpectedEOF)
	}
	return err
}

// isVR reports whether two bytes look like a VR (two capital letters).
func isVR(b []byte) bool {
	return b[0] >= 'A' && b[0] <= 'Z' && b[1] >= 'A' && b[1] <= 'Z'
}
