// Package dicom reads DICOM Part 10 files into media samples with
// github.com/suyashkumar/dicom: native (uncompressed) transfer syntaxes,
// deflated, and 8-bit JPEG baseline. Stored values are rescaled (HU for CT),
// MONOCHROME1 is inverted so that brighter always means more signal, and the
// default display window is kept.
//
// Compressed syntaxes other than JPEG baseline are reported with
// ErrUnsupportedSyntax naming the syntax, so the import summary says plainly
// what is missing.
package dicom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/frame"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/media"
)

// Errors a caller may test for.
var (
	ErrUnsupportedSyntax = errors.New("unsupported transfer syntax")
	ErrNoPixels          = errors.New("no pixel data")
	ErrTooLarge          = errors.New("pixel data too large")
)

// MaxValues bounds rows × columns × frames × samples of one file.
const MaxValues = 1 << 28

// Sniff reports whether head (at least the first 132 bytes of a file) is a
// DICOM Part 10 file.
func Sniff(head []byte) bool {
	return len(head) >= 132 && string(head[128:132]) == "DICM"
}

// ReadFile decodes the DICOM file at path.
func ReadFile(path string) (*media.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Read(f, st.Size())
}

// Read decodes a DICOM file of size bytes from r. Element lengths are
// checked against the file size first (see precheck), so corrupt files fail
// fast and in bounded memory.
func Read(r io.ReadSeeker, size int64) (s *media.Sample, err error) {
	defer func() { // the parser may panic on corrupt input
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	if err := precheck(r, size); err != nil {
		return nil, fmt.Errorf("check dicom: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ds, err := dcm.Parse(r, size, nil, dcm.AllowMismatchPixelDataLength())
	if err != nil {
		return nil, fmt.Errorf("parse dicom: %w", err)
	}
	return fromDataset(&ds)
}

func fromDataset(ds *dcm.Dataset) (*media.Sample, error) {
	h := readHeader(ds)
	if h.rows <= 0 || h.cols <= 0 {
		return nil, ErrNoPixels
	}
	pe, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return nil, ErrNoPixels
	}
	info, ok := pe.Value.GetValue().(dcm.PixelDataInfo)
	if !ok || len(info.Frames) == 0 {
		return nil, ErrNoPixels
	}
	if info.ParseErr != nil {
		return nil, fmt.Errorf("read pixel data: %w", info.ParseErr)
	}
	channels := 1
	if h.samples == 3 {
		channels = 3
	}
	n := int64(h.rows) * int64(h.cols) * int64(channels) * int64(len(info.Frames))
	if n > MaxValues {
		return nil, fmt.Errorf("%d values: %w", n, ErrTooLarge)
	}
	s := &media.Sample{Width: h.cols, Height: h.rows, Frames: len(info.Frames), Channels: channels,
		Data: make([]float32, 0, n), Spacing: h.spacing, FrameTime: h.frameTime, Window: h.window, Meta: h.meta}
	for i, fr := range info.Frames {
		vals, err := h.decodeFrame(fr)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", i, err)
		}
		s.Data = append(s.Data, vals...)
	}
	s.Kind = kindOf(s.Meta.Modality, s.Frames)
	return s, s.Validate()
}

func kindOf(modality string, frames int) media.Kind {
	switch {
	case frames == 1:
		return media.Image2D
	case modality == "CT" || modality == "MR" || modality == "PT" || modality == "NM":
		return media.Volume
	}
	return media.Video
}

type header struct {
	rows, cols, samples, bitsStored int
	signed, planar                  bool
	slope, intercept                float64
	syntax                          string
	spacing                         [3]float64
	frameTime                       float64
	window                          *media.Window
	meta                            media.Meta
}

func readHeader(ds *dcm.Dataset) header {
	h := header{
		rows: getInt(ds, tag.Rows), cols: getInt(ds, tag.Columns), samples: max(1, getInt(ds, tag.SamplesPerPixel)),
		bitsStored: getInt(ds, tag.BitsStored), signed: getInt(ds, tag.PixelRepresentation) == 1,
		planar: getInt(ds, tag.PlanarConfiguration) == 1, slope: 1,
		syntax: getString(ds, tag.TransferSyntaxUID),
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
	if c, ok := getFloat(ds, tag.WindowCenter); ok {
		if w, ok := getFloat(ds, tag.WindowWidth); ok && w > 0 {
			h.window = &media.Window{Center: c, Width: w}
		}
	}
	h.meta = media.Meta{
		Modality: strings.ToUpper(getString(ds, tag.Modality)), BodyPart: strings.ToUpper(getString(ds, tag.BodyPartExamined)),
		StudyDate: getString(ds, tag.StudyDate), SeriesDescription: getString(ds, tag.SeriesDescription),
		PatientID: getString(ds, tag.PatientID), SeriesUID: getString(ds, tag.SeriesInstanceUID),
		InstanceUID: getString(ds, tag.SOPInstanceUID), SourceFormat: "dicom",
		Photometric: strings.ToUpper(getString(ds, tag.PhotometricInterpretation)),
	}
	if h.meta.Modality == "" {
		h.meta.Modality = "OT"
	}
	return h
}

func (h *header) decodeFrame(fr *frame.Frame) ([]float32, error) {
	if fr.Encapsulated {
		return h.decodeEncapsulated(fr)
	}
	nf := fr.NativeData
	if nf == nil || nf.Rows() != h.rows || nf.Cols() != h.cols {
		return nil, fmt.Errorf("native frame size does not match rows/columns")
	}
	raw, err := rawSamples(nf.RawDataSlice())
	if err != nil {
		return nil, err
	}
	ch := 1
	if h.samples == 3 {
		ch = 3
	}
	want := h.rows * h.cols * h.samples
	if len(raw) < want {
		return nil, fmt.Errorf("frame has %d samples, need %d", len(raw), want)
	}
	out := make([]float32, h.rows*h.cols*ch)
	npx := h.rows * h.cols
	for i := 0; i < npx; i++ {
		for c := 0; c < ch; c++ {
			j := i*h.samples + c
			if h.planar && h.samples == 3 {
				j = c*npx + i
			}
			out[i*ch+c] = h.value(raw[j])
		}
	}
	h.invertMono1(out)
	return out, nil
}

// value turns a stored sample into a modality value: sign from Bits Stored,
// then rescale.
func (h *header) value(raw uint32) float32 {
	v := int64(raw)
	if h.signed && h.bitsStored > 0 && h.bitsStored < 32 {
		v &= (1 << h.bitsStored) - 1
		if v&(1<<(h.bitsStored-1)) != 0 {
			v -= 1 << h.bitsStored
		}
	} else if h.signed && h.bitsStored == 32 {
		v = int64(int32(raw))
	}
	return float32(float64(v)*h.slope + h.intercept)
}

func (h *header) invertMono1(vals []float32) {
	if h.meta.Photometric != "MONOCHROME1" {
		return
	}
	for i := range vals {
		vals[i] = -vals[i]
	}
	if h.window != nil {
		h.window.Center = -h.window.Center
	}
}

func (h *header) decodeEncapsulated(fr *frame.Frame) ([]float32, error) {
	switch h.syntax {
	case "1.2.840.10008.1.2.4.50": // JPEG baseline, 8-bit
	default:
		return nil, fmt.Errorf("%s (%s): %w", syntaxName(h.syntax), h.syntax, ErrUnsupportedSyntax)
	}
	img, err := fr.GetImage()
	if err != nil {
		return nil, fmt.Errorf("decode jpeg baseline: %w", err)
	}
	b := img.Bounds()
	if b.Dx() != h.cols || b.Dy() != h.rows {
		return nil, fmt.Errorf("jpeg is %dx%d, header says %dx%d", b.Dx(), b.Dy(), h.cols, h.rows)
	}
	ch := 1
	if h.samples == 3 {
		ch = 3
	}
	out := make([]float32, 0, h.rows*h.cols*ch)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if ch == 1 {
				out = append(out, h.value(r>>8))
			} else {
				out = append(out, float32(r>>8), float32(g>>8), float32(bl>>8))
			}
		}
	}
	h.invertMono1(out)
	return out, nil
}

func rawSamples(v any) ([]uint32, error) {
	switch d := v.(type) {
	case []uint8:
		return widen(d), nil
	case []uint16:
		return widen(d), nil
	case []uint32:
		return d, nil
	case []int8, []int16, []int32, []int:
		return nil, fmt.Errorf("unexpected signed raw samples %T", v)
	}
	return nil, fmt.Errorf("unsupported raw samples %T", v)
}

func widen[T uint8 | uint16](in []T) []uint32 {
	out := make([]uint32, len(in))
	for i, v := range in {
		out[i] = uint32(v)
	}
	return out
}

var syntaxNames = map[string]string{
	"1.2.840.10008.1.2.4.51": "JPEG extended 12-bit", "1.2.840.10008.1.2.4.57": "JPEG lossless",
	"1.2.840.10008.1.2.4.70": "JPEG lossless SV1", "1.2.840.10008.1.2.4.80": "JPEG-LS lossless",
	"1.2.840.10008.1.2.4.81": "JPEG-LS near-lossless", "1.2.840.10008.1.2.4.90": "JPEG 2000 lossless",
	"1.2.840.10008.1.2.4.91": "JPEG 2000", "1.2.840.10008.1.2.5": "RLE lossless",
	"1.2.840.10008.1.2.4.100": "MPEG-2", "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264",
}

func syntaxName(uid string) string {
	if n, ok := syntaxNames[uid]; ok {
		return n
	}
	return "compressed transfer syntax"
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
