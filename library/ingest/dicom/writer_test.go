package dicom

import (
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// This file is a small DICOM writer for the variant tests: explicit VR
// little endian elements with a file meta group whose transfer syntax and
// group length can be left out, native or encapsulated pixel data. The
// values come from the real samples; only the encoding is made here.

type testElem struct {
	t     tag.Tag
	vr    string
	val   []byte
	frags [][]byte // encapsulated pixel data when not nil
}

func usElem(t tag.Tag, v uint16) testElem {
	return testElem{t: t, vr: "US", val: binary.LittleEndian.AppendUint16(nil, v)}
}

func strElem(t tag.Tag, vr, s string) testElem {
	b := []byte(s)
	if len(b)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" {
			pad = 0
		}
		b = append(b, pad)
	}
	return testElem{t: t, vr: vr, val: b}
}

// imageElems are the attributes of a secondary capture image.
func imageElems(rows, cols, frames, samples, bitsAlloc, bitsStored, pixRep int, photometric string) []testElem {
	els := []testElem{
		strElem(tag.SOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7"),
		strElem(tag.SOPInstanceUID, "UI", "1.2.826.0.1.3680043.2.1125.17.1"),
		strElem(tag.Modality, "CS", "OT"),
		strElem(tag.SeriesInstanceUID, "UI", "1.2.826.0.1.3680043.2.1125.17.2"),
		usElem(tag.SamplesPerPixel, uint16(samples)),
		strElem(tag.PhotometricInterpretation, "CS", photometric),
		usElem(tag.Rows, uint16(rows)), usElem(tag.Columns, uint16(cols)),
		usElem(tag.BitsAllocated, uint16(bitsAlloc)), usElem(tag.BitsStored, uint16(bitsStored)),
		usElem(tag.HighBit, uint16(bitsStored-1)), usElem(tag.PixelRepresentation, uint16(pixRep)),
	}
	if samples > 1 {
		els = append(els, usElem(tag.PlanarConfiguration, 0))
	}
	if frames > 1 {
		els = append(els, strElem(tag.NumberOfFrames, "IS", strconv.Itoa(frames)))
	}
	return els
}

// appendElem writes one explicit VR little endian element.
func appendElem(b []byte, e testElem) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, e.t.Group)
	b = le.AppendUint16(b, e.t.Element)
	b = append(b, e.vr...)
	if e.frags != nil {
		b = append(b, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF)
		b = appendItem(b, nil) // empty basic offset table
		for _, f := range e.frags {
			b = appendItem(b, f)
		}
		return append(b, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
	}
	val := e.val
	if len(val)%2 == 1 {
		val = append(slices.Clone(val), 0)
	}
	if longLengthVR[e.vr] {
		b = append(b, 0, 0)
		b = le.AppendUint32(b, uint32(len(val)))
	} else {
		b = le.AppendUint16(b, uint16(len(val)))
	}
	return append(b, val...)
}

func appendItem(b, data []byte) []byte {
	if len(data)%2 == 1 {
		data = append(slices.Clone(data), 0)
	}
	b = append(b, 0xFE, 0xFF, 0x00, 0xE0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// metaOpts leaves elements out of the file meta group.
type metaOpts struct {
	noSyntax, noGroupLength bool
}

// dataset encodes els (sorted by tag) as explicit VR little endian.
func dataset(els []testElem) []byte {
	els = slices.Clone(els)
	slices.SortFunc(els, func(a, b testElem) int {
		return int(a.t.Group)<<16 + int(a.t.Element) - (int(b.t.Group)<<16 + int(b.t.Element))
	})
	var b []byte
	for _, e := range els {
		b = appendElem(b, e)
	}
	return b
}

// part10 is a file: preamble, "DICM", the file meta group and the dataset.
func part10(syntax string, els []testElem, o metaOpts) []byte {
	meta := []testElem{
		{t: tag.FileMetaInformationVersion, vr: "OB", val: []byte{0, 1}},
		strElem(tag.MediaStorageSOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.7"),
		strElem(tag.MediaStorageSOPInstanceUID, "UI", "1.2.826.0.1.3680043.2.1125.17.1"),
	}
	if !o.noSyntax {
		meta = append(meta, strElem(tag.TransferSyntaxUID, "UI", syntax))
	}
	meta = append(meta, strElem(tag.ImplementationClassUID, "UI", "1.2.826.0.1.3680043.2.1125.17"))
	group := dataset(meta)
	out := append(make([]byte, 128), "DICM"...)
	if !o.noGroupLength {
		out = appendElem(out, testElem{t: tag.FileMetaInformationGroupLength, vr: "UL",
			val: binary.LittleEndian.AppendUint32(nil, uint32(len(group)))})
	}
	out = append(out, group...)
	return append(out, dataset(els)...)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// storedSamples reads a native file's header and its stored sample bit
// patterns (all frames, pixel-interleaved as stored) through this
// package's native path.
func storedSamples(t *testing.T, path string) (header, []uint32) {
	t.Helper()
	ds, err := dcm.ParseFile(path, nil, dcm.SkipProcessingPixelDataValue())
	if err != nil {
		t.Fatal(err)
	}
	h := readHeader(&ds)
	px, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := h.nativeSamples(px)
	if err != nil {
		t.Fatal(err)
	}
	return h, raw
}

// nativeSamples returns all frames of a native pixel data element read
// with SkipProcessingPixelDataValue, one after another.
func (h *header) nativeSamples(pe *dcm.Element) ([]uint32, error) {
	info, ok := pe.Value.GetValue().(dcm.PixelDataInfo)
	if !ok || !info.IntentionallyUnprocessed {
		return nil, ErrNoPixels
	}
	p, err := h.native(info.UnprocessedValueData, pe.RawValueRepresentation)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for i := range h.frames {
		out = append(out, p.frame(i)...)
	}
	return out, nil
}
