package dicom

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/media"
)

// header is what the decoder needs from a dataset, read once per file.
type header struct {
	rows, cols, samples       int
	bitsAllocated, bitsStored int
	frames                    int // Number of Frames, 1 when absent
	signed, planar            bool
	slope, intercept          float64
	syntax, sopClass          string
	spacing                   [3]float64
	frameTime                 float64
	window                    *media.Window
	windowInverted            bool // the window's centre negated for MONOCHROME1 (see invertMono1)
	voi                       *media.VOILUT
	palette                   *palette
	geom                      placement
	meta                      media.Meta
}

// placement is where a slice sits in the patient.
type placement struct {
	position    [3]float64 // Image Position (Patient)
	orientation [6]float64 // Image Orientation (Patient): row then column cosines
	hasPos      bool
	hasOrient   bool
	instance    int // Instance Number
}

func readHeader(ds *dcm.Dataset) header {
	h := header{
		rows: getInt(ds, tag.Rows), cols: getInt(ds, tag.Columns), samples: max(1, getInt(ds, tag.SamplesPerPixel)),
		bitsAllocated: getInt(ds, tag.BitsAllocated), bitsStored: getInt(ds, tag.BitsStored),
		frames: max(1, getInt(ds, tag.NumberOfFrames)), signed: getInt(ds, tag.PixelRepresentation) == 1,
		planar: getInt(ds, tag.PlanarConfiguration) == 1, slope: 1,
		syntax: getString(ds, tag.TransferSyntaxUID), sopClass: getString(ds, tag.SOPClassUID),
	}
	if h.bitsStored == 0 {
		h.bitsStored = h.bitsAllocated
	}
	if v, ok := getFloat(ds, tag.RescaleSlope); ok && v != 0 {
		h.slope = v
	}
	h.intercept, _ = getFloat(ds, tag.RescaleIntercept)
	h.spacing[1], _ = getFloatAt(ds, tag.PixelSpacing, 0)
	h.spacing[0], _ = getFloatAt(ds, tag.PixelSpacing, 1)
	h.spacing[2], _ = getFloat(ds, tag.SliceThickness)
	if sb, ok := getFloat(ds, tag.SpacingBetweenSlices); ok && sb > 0 {
		h.spacing[2] = sb
	}
	h.frameTime, _ = getFloat(ds, tag.FrameTime)
	if h.frameTime == 0 {
		if rate, ok := getFloat(ds, tag.CineRate); ok && rate > 0 {
			h.frameTime = 1000 / rate
		}
	}
	if c, ok := getFloat(ds, tag.WindowCenter); ok {
		if w, ok := getFloat(ds, tag.WindowWidth); ok && w > 0 {
			h.window = &media.Window{Center: c, Width: w}
		}
	}
	h.geom = readGeometry(ds)
	h.voi = readVOILUT(ds)
	text := textDecoder(ds)
	h.meta = media.Meta{
		Modality: strings.ToUpper(getString(ds, tag.Modality)), BodyPart: strings.ToUpper(text(getString(ds, tag.BodyPartExamined))),
		StudyDate: getString(ds, tag.StudyDate), SeriesDescription: text(getString(ds, tag.SeriesDescription)),
		PatientID: text(getString(ds, tag.PatientID)), SeriesUID: getString(ds, tag.SeriesInstanceUID),
		InstanceUID: getString(ds, tag.SOPInstanceUID), SourceFormat: "dicom",
		Photometric: strings.ToUpper(getString(ds, tag.PhotometricInterpretation)),
	}
	if h.meta.Modality == "" {
		h.meta.Modality = "OT"
	}
	if h.meta.Photometric == "PALETTE COLOR" {
		h.palette = readPalette(ds)
	}
	return h
}

func readGeometry(ds *dcm.Dataset) placement {
	var g placement
	g.instance = getInt(ds, tag.InstanceNumber)
	g.hasPos = true
	for i := range 3 {
		v, ok := getFloatAt(ds, tag.ImagePositionPatient, i)
		g.position[i], g.hasPos = v, g.hasPos && ok
	}
	g.hasOrient = true
	for i := range 6 {
		v, ok := getFloatAt(ds, tag.ImageOrientationPatient, i)
		g.orientation[i], g.hasOrient = v, g.hasOrient && ok
	}
	return g
}

// normal is the slice normal: row cosines × column cosines.
func (g placement) normal() [3]float64 {
	r, c := g.orientation[:3], g.orientation[3:]
	return [3]float64{r[1]*c[2] - r[2]*c[1], r[2]*c[0] - r[0]*c[2], r[0]*c[1] - r[1]*c[0]}
}

// along is the slice position projected on the normal.
func (g placement) along() float64 {
	n := g.normal()
	return g.position[0]*n[0] + g.position[1]*n[1] + g.position[2]*n[2]
}

// orientationLetters names the patient direction (LPS letters) each of
// the row, column and normal vectors points to most.
func (g placement) orientationLetters() string {
	if !g.hasOrient {
		return ""
	}
	n := g.normal()
	return letter(g.orientation[:3]) + letter(g.orientation[3:]) + letter(n[:])
}

func letter(v []float64) string {
	best, k := 0.0, 0
	for i, x := range v {
		if x*x > best*best {
			best, k = x, i
		}
	}
	pos, neg := "LPS"[k:k+1], "RAI"[k:k+1]
	if best < 0 {
		return neg
	}
	return pos
}

func readVOILUT(ds *dcm.Dataset) *media.VOILUT {
	e, err := ds.FindElementByTag(tag.VOILUTSequence)
	if err != nil {
		return nil
	}
	items, ok := e.Value.GetValue().([]*dcm.SequenceItemValue)
	if !ok || len(items) == 0 {
		return nil
	}
	sub := dcm.Dataset{Elements: items[0].GetValue().([]*dcm.Element)}
	desc := getInts(&sub, tag.LUTDescriptor)
	data := getInts(&sub, tag.LUTData)
	if len(desc) < 3 || len(data) == 0 {
		return nil
	}
	lut := &media.VOILUT{First: int(int16(desc[1])), Bits: desc[2], Data: make([]uint16, len(data))}
	for i, v := range data {
		lut.Data[i] = uint16(v)
	}
	return lut
}

// latin1Aliases are spellings of ISO 8859-1 that real archives write in
// Specific Character Set instead of "ISO_IR 100". The parser does not know
// them (it reads the file, leaving the text as raw bytes); textDecoder
// reads such text as Latin-1.
var latin1Aliases = map[string]bool{"ISO_IR_100": true, "ISO-IR 100": true, "ISO-IR-100": true, "ISO_IR100": true,
	"ISO-8859-1": true, "ISO8859-1": true, "ISO_8859-1": true, "ISO 8859-1": true, "LATIN1": true, "LATIN-1": true}

// textDecoder returns how to read the dataset's text values.
func textDecoder(ds *dcm.Dataset) func(string) string {
	if !latin1Aliases[strings.ToUpper(getString(ds, tag.SpecificCharacterSet))] {
		return func(s string) string { return s }
	}
	return func(s string) string {
		if utf8.ValidString(s) {
			return s
		}
		r := make([]rune, len(s))
		for i := 0; i < len(s); i++ {
			r[i] = rune(s[i]) // Latin-1 bytes are the first 256 code points
		}
		return string(r)
	}
}

func getString(ds *dcm.Dataset, t tag.Tag) string {
	e, err := ds.FindElementByTag(t)
	if err != nil {
		return ""
	}
	switch v := e.Value.GetValue().(type) {
	case []string:
		return strings.TrimSpace(strings.Join(v, "\\"))
	case []byte:
		return strings.TrimSpace(string(bytes.TrimRight(v, "\x00 ")))
	}
	return ""
}

func getInt(ds *dcm.Dataset, t tag.Tag) int {
	e, err := ds.FindElementByTag(t)
	if err != nil {
		return 0
	}
	switch v := e.Value.GetValue().(type) {
	case []int:
		if len(v) > 0 {
			return v[0]
		}
	case []string:
		if len(v) > 0 {
			n, _ := strconv.Atoi(strings.TrimSpace(v[0]))
			return n
		}
	}
	return 0
}

func getFloat(ds *dcm.Dataset, t tag.Tag) (float64, bool) { return getFloatAt(ds, t, 0) }

func getFloatAt(ds *dcm.Dataset, t tag.Tag, i int) (float64, bool) {
	e, err := ds.FindElementByTag(t)
	if err != nil {
		return 0, false
	}
	switch v := e.Value.GetValue().(type) {
	case []string:
		parts := v
		if len(v) == 1 {
			parts = strings.Split(v[0], "\\")
		}
		if i < len(parts) {
			f, err := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
			return f, err == nil
		}
	case []float64:
		if i < len(v) {
			return v[i], true
		}
	case []int:
		if i < len(v) {
			return float64(v[i]), true
		}
	}
	return 0, false
}

func getInts(ds *dcm.Dataset, t tag.Tag) []int {
	e, err := ds.FindElementByTag(t)
	if err != nil {
		return nil
	}
	switch v := e.Value.GetValue().(type) {
	case []int:
		return v
	case []byte: // OW read as bytes: little endian words
		out := make([]int, len(v)/2)
		for i := range out {
			out[i] = int(v[2*i]) | int(v[2*i+1])<<8
		}
		return out
	}
	return nil
}

// nonImage names the kind of object for SOP classes that hold no image.
func nonImage(sopClass string) string {
	if sopClass == "1.2.840.10008.5.1.4.1.1.481.1" {
		return "" // RT image: a portal image, imported like any projection
	}
	prefixes := []struct{ uid, what string }{
		{"1.2.840.10008.5.1.4.1.1.88.", "structured report"},
		{"1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"},
		{"1.2.840.10008.5.1.4.1.1.481.5", "RT plan"},
		{"1.2.840.10008.5.1.4.1.1.481.", "RT object"},
		{"1.2.840.10008.5.1.4.1.1.9.", "waveform (ECG or similar)"},
		{"1.2.840.10008.5.1.4.1.1.104.", "encapsulated document (PDF or CDA)"},
		{"1.2.840.10008.5.1.4.1.1.11.", "presentation state"},
		{"1.2.840.10008.5.1.4.1.1.66", "raw data or registration"},
		{"1.2.840.10008.5.1.4.1.1.67", "real world value mapping"},
		{"1.2.840.10008.1.3.10", "DICOMDIR"},
	}
	for _, p := range prefixes {
		if strings.HasPrefix(sopClass, p.uid) {
			return p.what
		}
	}
	return ""
}
