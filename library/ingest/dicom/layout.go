package dicom

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/ingest/internal/ctxio"
)

// Transfer syntaxes of native datasets, as inferred from a dataset's bytes.
const (
	syntaxImplicit = "1.2.840.10008.1.2"
	syntaxExplicit = "1.2.840.10008.1.2.1"
)

// layout says how the parser is to read a file: prefix, then the file's
// bytes from start to end. Files whose file meta group the parser cannot
// read (none at all, as dcmtk writes with --write-dataset; no transfer
// syntax; no or a wrong group length) get a prefix made here, a preamble
// and a file meta group with the transfer syntax the file declares or its
// dataset shows, in place of their own.
type layout struct {
	prefix     []byte
	start, end int64
}

// open runs precheck and returns the reader and byte count to parse.
func open(ctx context.Context, r io.ReadSeeker, size int64) (io.Reader, int64, error) {
	lay, err := precheck(ctxio.Reader(ctx, r), size)
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("check dicom: %w", err)
	}
	if _, err := r.Seek(lay.start, io.SeekStart); err != nil {
		return nil, 0, err
	}
	in := io.MultiReader(bytes.NewReader(lay.prefix), ctxio.Reader(ctx, r))
	return in, int64(len(lay.prefix)) + lay.end - lay.start, nil
}

// metaPrefix is a preamble, "DICM" and a file meta group holding only the
// group length and the transfer syntax.
func metaPrefix(syntax string) []byte {
	ts := []byte(syntax)
	if len(ts)%2 == 1 {
		ts = append(ts, 0)
	}
	le := binary.LittleEndian
	b := append(make([]byte, 128), "DICM"...)
	b = append(b, 0x02, 0, 0, 0, 'U', 'L', 4, 0)
	b = le.AppendUint32(b, uint32(8+len(ts)))
	b = append(b, 0x02, 0, 0x10, 0, 'U', 'I')
	b = le.AppendUint16(b, uint16(len(ts)))
	return append(b, ts...)
}

// standardVRs are the value representations of PS3.5 table 6.2-1.
var standardVRs = map[string]bool{"AE": true, "AS": true, "AT": true, "CS": true, "DA": true, "DS": true,
	"DT": true, "FL": true, "FD": true, "IS": true, "LO": true, "LT": true, "OB": true, "OD": true, "OF": true,
	"OL": true, "OV": true, "OW": true, "PN": true, "SH": true, "SL": true, "SQ": true, "SS": true, "ST": true,
	"SV": true, "TM": true, "UC": true, "UI": true, "UL": true, "UN": true, "UR": true, "US": true, "UT": true, "UV": true}

// known reports a tag of the data dictionary (group lengths included).
func known(t tag.Tag) bool {
	if t.Element == 0 {
		return true
	}
	_, err := tag.Find(t)
	return err == nil
}

// guessEncoding reads the encoding of a dataset from its first element
// header (at least 6 bytes), as dcmtk does for a dataset without a
// transfer syntax: explicit VR when bytes 4 and 5 are a VR, and the byte
// order under which the first tag is a dictionary tag (else the one that
// gives the lower group number). ok is false for implicit VR big endian,
// which no transfer syntax has.
func guessEncoding(head []byte) (syntax string, ok bool) {
	if len(head) < 6 {
		return syntaxImplicit, true
	}
	little := tag.Tag{Group: binary.LittleEndian.Uint16(head), Element: binary.LittleEndian.Uint16(head[2:])}
	big := tag.Tag{Group: binary.BigEndian.Uint16(head), Element: binary.BigEndian.Uint16(head[2:])}
	bigEndian := known(big) && !known(little) || known(big) == known(little) && big.Group < little.Group
	explicit := standardVRs[string(head[4:6])]
	switch {
	case explicit && bigEndian:
		return syntaxBigEndian, true
	case explicit:
		return syntaxExplicit, true
	case bigEndian:
		return "", false
	}
	return syntaxImplicit, true
}

// SniffDataset reports whether head (the first bytes of a file, at least
// 8) starts like a DICOM dataset without the Part 10 preamble: a file meta
// group, or a first element of the groups a dataset starts with (0008,
// or a group length or specific character set before it), in implicit VR
// little endian, explicit VR little endian or explicit VR big endian.
func SniffDataset(head []byte) bool {
	if len(head) < 8 {
		return false
	}
	syntax, ok := guessEncoding(head)
	if !ok {
		return false
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if syntax == syntaxBigEndian {
		bo = binary.BigEndian
	}
	t := tag.Tag{Group: bo.Uint16(head), Element: bo.Uint16(head[2:])}
	if t.Group != 0x0002 && t.Group != 0x0008 {
		return false
	}
	if t.Group == 0x0002 && syntax != syntaxExplicit { // the file meta group is always explicit VR little endian
		return false
	}
	return known(t)
}
