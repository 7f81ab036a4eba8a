package dicom

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"
)

// ErrCorrupt is returned when a file's element lengths cannot be right.
var ErrCorrupt = errors.New("corrupt dicom")

// precheck walks the element headers of a file (size bytes) the way the
// parser will, without reading values, and refuses any length that runs
// past the end of the file. The parser allocates each value before reading
// it, so one corrupt length would otherwise cost gigabytes of memory. It
// returns how the parser is to read the file (see layout).
func precheck(r io.Reader, size int64) (layout, error) {
	w := &walker{r: bufio.NewReaderSize(r, 64<<10), left: size, size: size, end: size, bo: binary.LittleEndian}
	m, err := w.fileMeta()
	if err != nil {
		return layout{}, err
	}
	syntax := m.syntax
	if syntax == "" { // no transfer syntax: read the dataset's first element header, as dcmtk does
		head, _ := w.r.Peek(int(min(6, w.left)))
		var ok bool
		if syntax, ok = guessEncoding(head); !ok {
			return layout{}, fmt.Errorf("implicit VR big endian dataset: %w", ErrUnsupportedSyntax)
		}
	}
	if err := knownSyntax(syntax); err != nil {
		return layout{}, err
	}
	var lay layout
	if m.rewrite {
		lay.prefix, lay.start = metaPrefix(syntax), m.end
	}
	switch syntax {
	case syntaxImplicit:
		w.implicit = true
	case syntaxBigEndian:
		w.bo = binary.BigEndian
	case "1.2.840.10008.1.2.1.99": // deflated: walk the inflated stream, bounded by the best ratio deflate reaches
		w.r = bufio.NewReader(flate.NewReader(w.r))
		w.left = min(w.left*1032, 1<<40)
		w.size = -1 // offsets in the inflated stream are not the file's
	}
	err = w.elements(-1, false)
	lay.end = w.end
	return lay, err
}

// maxEmpty empty elements in a row end a dataset: zero bytes are never
// DICOM data (tag (0000,0000) with no value is not a dataset element), and
// a file padded or filled with zeros would otherwise become one element
// per 8 bytes in the parser, 16 times the file in memory.
const maxEmpty = 4

// endsInZeros counts top-level empty elements; after maxEmpty in a row it
// records where the run began as the dataset's end and says to stop.
func (w *walker) endsInZeros(at int64, t tag.Tag, vl uint32) bool {
	if t != (tag.Tag{}) || vl != 0 || w.size < 0 {
		w.empty = 0
		return false
	}
	w.empty++
	if w.empty == 1 {
		w.end = at
	}
	return w.empty >= maxEmpty
}

// endAfterPixels ends the dataset after the top-level Pixel Data: what
// may follow (Data Set Trailing Padding, digital signatures) is nothing an
// image needs, and a large trailing element would be read into memory.
func (w *walker) endAfterPixels() bool {
	if w.depth != 0 || w.size < 0 {
		return false
	}
	w.end = min(w.end, w.size-w.left)
	return true
}

// knownSyntax refuses a transfer syntax the parser does not know (it would
// read the file with no byte order and fail deep inside): HTJ2K, a private
// UID, a typo, or text that is no UID at all (named by its length only).
// An absent one is left to the parser's default.
func knownSyntax(syntax string) error {
	if syntax == "" {
		return nil
	}
	if _, err := uid.CanonicalTransferSyntaxUID(syntax); err != nil {
		return fmt.Errorf("%w %s", ErrUnsupportedSyntax, syntaxText(syntax))
	}
	return nil
}

type walker struct {
	r        *bufio.Reader
	left     int64 // bytes that may still follow
	size     int64 // of the file (-1: offsets unknown, in a deflated stream)
	end      int64 // where the dataset ends: the file's size, or where a run of empty elements starts
	empty    int   // empty elements in a row at the top level
	bo       binary.ByteOrder
	implicit bool
	depth    int               // nesting of sequences; 0 is the top-level dataset
	image    map[tag.Tag]int64 // top-level image geometry, for checkPixels
	photo    string            // top-level Photometric Interpretation
}

// geometry are the top-level elements native pixel data is sized by.
var geometry = map[tag.Tag]bool{tag.Rows: true, tag.Columns: true, tag.NumberOfFrames: true,
	tag.BitsAllocated: true, tag.SamplesPerPixel: true}

// readGeometry keeps the value of a geometry element (US, or IS text).
func (w *walker) readGeometry(t tag.Tag, vl uint32) error {
	b, err := w.read(int(vl))
	if err != nil {
		return err
	}
	if w.image == nil {
		w.image = map[tag.Tag]int64{}
	}
	if t == tag.NumberOfFrames {
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimRight(string(b), "\x00 ")), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("number of frames (%d bytes) is not a number: %w", len(b), ErrCorrupt)
		}
		w.image[t] = n
		return nil
	}
	if len(b) >= 2 {
		w.image[t] = int64(w.bo.Uint16(b))
	}
	return nil
}

// checkPixels refuses native pixel data shorter than its declared
// geometry: rows × columns × samples × bits allocated × frames, where
// YBR_FULL_422 and YBR_PARTIAL_422 store two samples a pixel and bits are
// packed (Bits Allocated 1).
func (w *walker) checkPixels(vl uint32) error {
	g := w.image
	frames := int64(1)
	if n, ok := g[tag.NumberOfFrames]; ok {
		frames = n
	}
	samples := max(1, g[tag.SamplesPerPixel])
	if samples == 3 && strings.HasSuffix(w.photo, "_422") {
		samples = 2
	}
	need := new(big.Int).SetInt64(g[tag.Rows])
	for _, f := range []int64{g[tag.Columns], samples, max(1, g[tag.BitsAllocated]), frames} {
		need.Mul(need, big.NewInt(f))
	}
	need.Add(need, big.NewInt(7)).Div(need, big.NewInt(8)) // bits to bytes
	if need.Cmp(big.NewInt(int64(vl)+1)) > 0 {
		return fmt.Errorf("pixel data of %d bytes, geometry needs %s: %w", vl, need, ErrCorrupt)
	}
	return nil
}

func (w *walker) read(n int) ([]byte, error) {
	if int64(n) > w.left {
		return nil, io.ErrUnexpectedEOF
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(w.r, b); err != nil {
		return nil, err
	}
	w.left -= int64(n)
	return b, nil
}

// skip skips the n bytes of element t's value (an item's, a fragment's),
// or refuses the length.
func (w *walker) skip(t tag.Tag, n int64) error {
	if n > w.left {
		return errLength(t, n)
	}
	if _, err := w.r.Discard(int(n)); err != nil {
		return err
	}
	w.left -= n
	return nil
}

// metaInfo is what the file meta group says and where the dataset starts.
type metaInfo struct {
	syntax  string // "" when absent or empty
	end     int64
	rewrite bool // the parser cannot read the file meta group as it is
}

// fileMeta walks the preamble and the file meta group, if there are any.
// dcmtk also reads a file meta group without the preamble.
func (w *walker) fileMeta() (metaInfo, error) {
	head, _ := w.r.Peek(132)
	if len(head) == 132 && string(head[128:132]) == "DICM" {
		if err := w.skip(tag.Tag{}, 132); err != nil {
			return metaInfo{}, err
		}
		return w.meta(false)
	}
	if len(head) >= 6 && binary.LittleEndian.Uint16(head) == 0x0002 && standardVRs[string(head[4:6])] {
		return w.meta(true)
	}
	return metaInfo{rewrite: true}, nil
}

// meta walks the file meta group (explicit VR little endian): its
// transfer syntax, and whether the parser can read it (a group length
// first, right, and a transfer syntax).
func (w *walker) meta(noPreamble bool) (metaInfo, error) {
	bo, implicit := w.bo, w.implicit
	w.bo, w.implicit = binary.LittleEndian, false
	defer func() { w.bo, w.implicit = bo, implicit }()
	m := metaInfo{rewrite: noPreamble}
	groupLen, groupStart := int64(-1), int64(0)
	for first := true; ; first = false {
		head, err := w.r.Peek(2)
		if err != nil || binary.LittleEndian.Uint16(head) != 0x0002 {
			break
		}
		t, vr, vl, err := w.header()
		if err != nil {
			return m, err
		}
		if vl == undefined || vr == "SQ" {
			return m, fmt.Errorf("undefined length in file meta group: %w", ErrCorrupt)
		}
		if int64(vl) > w.left {
			return m, errLength(t, int64(vl))
		}
		switch {
		case t == tag.TransferSyntaxUID && vl < 256:
			b, err := w.read(int(vl))
			if err != nil {
				return m, err
			}
			m.syntax = trimUID(b)
		case t == tag.FileMetaInformationGroupLength:
			if vl != 4 { // the parser reads 4 bytes whatever the length
				return m, fmt.Errorf("file meta group length of %d bytes: %w", vl, ErrCorrupt)
			}
			b, err := w.read(4)
			if err != nil {
				return m, err
			}
			if first {
				groupLen, groupStart = int64(binary.LittleEndian.Uint32(b)), w.size-w.left
			}
		default:
			if err := w.skip(t, int64(vl)); err != nil {
				return m, err
			}
		}
	}
	m.end = w.size - w.left
	m.rewrite = m.rewrite || m.syntax == "" || m.end-groupStart != groupLen
	return m, nil
}

func trimUID(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return string(b)
}

const undefined = 0xFFFFFFFF

var (
	itemTag      = tag.Tag{Group: 0xFFFE, Element: 0xE000}
	itemDelim    = tag.Tag{Group: 0xFFFE, Element: 0xE00D}
	sequenceEnd  = tag.Tag{Group: 0xFFFE, Element: 0xE0DD}
	longLengthVR = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
		"SQ": true, "UC": true, "UR": true, "UT": true, "UN": true, "SV": true, "UV": true}
)

// header reads one element header: tag, VR ("" for items and delimiters,
// or the dictionary's for implicit VR) and value length.
func (w *walker) header() (tag.Tag, string, uint32, error) {
	b, err := w.read(4)
	if err != nil {
		return tag.Tag{}, "", 0, err
	}
	t := tag.Tag{Group: w.bo.Uint16(b), Element: w.bo.Uint16(b[2:])}
	if t.Group == 0xFFFE || w.implicit {
		b, err := w.read(4)
		if err != nil {
			return t, "", 0, err
		}
		vr := ""
		if t.Group != 0xFFFE {
			if info, err := tag.Find(t); err == nil && len(info.VRs) > 0 {
				vr = info.VRs[0]
			}
		}
		return t, vr, w.bo.Uint32(b), nil
	}
	b, err = w.read(2)
	if err != nil {
		return t, "", 0, err
	}
	vr := string(b)
	if longLengthVR[vr] {
		b, err := w.read(6)
		if err != nil {
			return t, vr, 0, err
		}
		return t, vr, w.bo.Uint32(b[2:]), nil
	}
	b, err = w.read(2)
	if err != nil {
		return t, vr, 0, err
	}
	return t, vr, uint32(w.bo.Uint16(b)), nil
}

// elements walks elements until limit bytes are used (limit < 0: until the
// end of the file, or a delimiter when undefinedLen).
func (w *walker) elements(limit int64, undefinedLen bool) error {
	stop := w.left - limit
	for {
		if limit >= 0 && w.left <= stop {
			return nil
		}
		if _, err := w.r.Peek(1); errors.Is(err, io.EOF) || w.left == 0 {
			return nil
		}
		at := w.size - w.left
		t, vr, vl, err := w.header()
		if err != nil {
			return err
		}
		if w.depth == 0 && w.endsInZeros(at, t, vl) {
			return nil
		}
		switch {
		case t == itemDelim || t == sequenceEnd:
			if undefinedLen {
				return nil
			}
		case t == tag.PixelData && vl == undefined:
			if err := w.fragments(); err != nil {
				return err
			}
			if w.endAfterPixels() {
				return nil
			}
		case w.depth == 0 && geometry[t] && vl <= 16:
			if err := w.readGeometry(t, vl); err != nil {
				return err
			}
		case w.depth == 0 && t == tag.PhotometricInterpretation && vl <= 64:
			b, err := w.read(int(vl))
			if err != nil {
				return err
			}
			w.photo = strings.ToUpper(strings.TrimRight(string(b), "\x00 "))
		case w.depth == 0 && t == tag.PixelData:
			if err := w.checkPixels(vl); err != nil {
				return err
			}
			if err := w.skip(t, int64(vl)); err != nil {
				return err
			}
			if w.endAfterPixels() {
				return nil
			}
		case vr == "SQ" || (vl == undefined && t.Group != 0xFFFE):
			if err := w.sequence(t, vl); err != nil {
				return err
			}
		case t == itemTag:
			if vl == undefined {
				if err := w.elements(-1, true); err != nil {
					return err
				}
			} else if err := w.skip(t, int64(vl)); err != nil {
				return err
			}
		case vl == undefined:
			return fmt.Errorf("undefined length for %s: %w", element(t), ErrCorrupt)
		default:
			if err := w.skip(t, int64(vl)); err != nil {
				return err
			}
		}
	}
}

// sequence walks the items of sequence t, of defined or undefined length;
// what fails inside is told as in it.
func (w *walker) sequence(t tag.Tag, vl uint32) error {
	if vl != undefined && int64(vl) > w.left {
		return errLength(t, int64(vl))
	}
	w.depth++
	defer func() { w.depth-- }()
	if err := w.items(vl); err != nil {
		return fmt.Errorf("in sequence %s: %w", tagText(t), err)
	}
	return nil
}

// items walks a sequence's items.
func (w *walker) items(vl uint32) error {
	limit := int64(-1)
	if vl != undefined {
		limit = int64(vl)
	}
	stop := w.left - limit
	for limit < 0 || w.left > stop {
		t, _, ivl, err := w.header()
		if err != nil {
			return err
		}
		switch {
		case t == sequenceEnd:
			return nil
		case t != itemTag:
			return fmt.Errorf("%s where an item should be: %w", element(t), ErrCorrupt)
		case ivl == undefined:
			if err := w.elements(-1, true); err != nil {
				return err
			}
		default:
			if int64(ivl) > w.left {
				return errLength(itemTag, int64(ivl))
			}
			if err := w.elements(int64(ivl), false); err != nil {
				return err
			}
		}
	}
	return nil
}

// fragments walks the items of encapsulated pixel data.
func (w *walker) fragments() error {
	for {
		t, _, vl, err := w.header()
		if err != nil {
			return err
		}
		switch {
		case t == sequenceEnd:
			return nil
		case t != itemTag || vl == undefined:
			return fmt.Errorf("bad pixel data fragment (%s): %w", element(t), ErrCorrupt)
		}
		if err := w.skip(t, int64(vl)); err != nil {
			return err
		}
	}
}
