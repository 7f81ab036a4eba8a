// Package dicom reads DICOM Part 10 files into media samples. The parser is
// github.com/suyashkumar/dicom; pixel data is decoded here for native
// syntaxes (implicit and explicit VR, little and big endian, deflated) and
// through the pure-Go codecs of github.com/cocosip/go-dicom-codec for JPEG
// extended, JPEG lossless, JPEG-LS, JPEG 2000 and RLE; 8-bit JPEG baseline
// goes through the standard library. Stored values are rescaled (HU for
// CT), MONOCHROME1 is inverted so that brighter always means more signal,
// colour (RGB, YBR, palette) becomes RGB, and the default window and VOI
// LUT are kept for display.
//
// Variants real archives hold are read as dcmtk and GDCM read them:
// datasets without a preamble or file meta group, or whose file meta group
// lacks the transfer syntax or group length (the encoding is read from the
// first element, see layout.go); bit-packed pixel data (Bits Allocated 1);
// native YBR_FULL_422; tiled JPEG 2000 (j2ktiles.go); colour JPEG baseline
// upsampled and converted as libjpeg does (jpegcolour.go).
//
// Series (several files, one Series Instance UID) become one sample
// through ReadHeader, Group and ReadSeries. Video syntaxes (MPEG-2, H.264,
// HEVC) are decoded by ffmpeg through the video package.
package dicom

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"strings"
	"time"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/frame"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/ingest/video"
	"github.com/m3ret/viewer/library/media"
)

// Errors a caller may test for.
var (
	ErrUnsupportedSyntax = errors.New("unsupported transfer syntax")
	ErrNoPixels          = errors.New("no pixel data")
	ErrTooLarge          = errors.New("pixel data too large")
	// ErrNotImage marks objects that hold no image to import (structured
	// reports, RT structures, waveforms, encapsulated documents): the
	// import skips them with the reason.
	ErrNotImage = errors.New("not an image object")
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
	return ReadFileContext(context.Background(), path)
}

// ReadFileContext is ReadFile stopping early, with ctx.Err(), when ctx is
// done.
func ReadFileContext(ctx context.Context, path string) (*media.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return ReadContext(ctx, f, st.Size())
}

// Read decodes a DICOM file of size bytes from r. Element lengths are
// checked against the file size first (see precheck), so corrupt files fail
// fast and in bounded memory.
func Read(r io.ReadSeeker, size int64) (*media.Sample, error) {
	return ReadContext(context.Background(), r, size)
}

// ReadContext is Read stopping early, with ctx.Err(), when ctx is done:
// the parser's reads fail and the frame loop checks between frames.
func ReadContext(ctx context.Context, r io.ReadSeeker, size int64) (s *media.Sample, err error) {
	defer func() { // the parser may panic on corrupt input
		if p := recover(); p != nil {
			s, err = nil, panicErr(p)
		}
	}()
	return readUnguarded(ctx, r, size)
}

// readUnguarded is ReadContext without the recover: FuzzReadUnguarded
// calls it so that the parser's panics show instead of becoming errors.
func readUnguarded(ctx context.Context, r io.ReadSeeker, size int64) (*media.Sample, error) {
	in, n, err := open(ctx, r, size)
	if err != nil {
		return nil, err
	}
	// Native pixel data comes as its bytes (see nativeSamples): the parser
	// would size it by a geometry that knows neither bit-packed nor 4:2:2
	// data.
	ds, err := dcm.Parse(in, n, nil, dcm.SkipProcessingPixelDataValue(),
		dcm.AllowUnknownSpecificCharacterSet()) // never fail an image for its text encoding
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("parse dicom: %w", redact(err))
	}
	return fromDataset(ctx, &ds)
}

func fromDataset(ctx context.Context, ds *dcm.Dataset) (*media.Sample, error) {
	h := readHeader(ds)
	if err := h.checkImage(); err != nil {
		return nil, err
	}
	pe, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return nil, ErrNoPixels
	}
	info, ok := pe.Value.GetValue().(dcm.PixelDataInfo)
	if !ok {
		return nil, ErrNoPixels
	}
	if info.ParseErr != nil {
		return nil, fmt.Errorf("read pixel data: %w", redact(info.ParseErr))
	}
	if info.IsEncapsulated && isVideoSyntax(h.syntax) {
		return h.readVideo(ctx, info.Frames)
	}
	nframes, decode, err := h.frameDecoder(pe, info)
	if err != nil {
		return nil, err
	}
	channels := 1
	if h.samples == 3 || h.meta.Photometric == "PALETTE COLOR" {
		channels = 3
	}
	n := int64(h.rows) * int64(h.cols) * int64(channels) * int64(nframes)
	if n > MaxValues {
		return nil, fmt.Errorf("%d values: %w", n, ErrTooLarge)
	}
	s := &media.Sample{Width: h.cols, Height: h.rows, Frames: nframes, Channels: channels,
		Data: make([]float32, 0, n), Spacing: h.spacing, FrameTime: h.frameTime, Window: h.window, VOI: h.voi, Meta: h.meta}
	for i := range nframes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vals, err := decode(i)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", i, err)
		}
		s.Data = append(s.Data, vals...)
	}
	s.Kind = kindOf(s.Meta.Modality, s.Frames)
	s.Meta.Orientation = h.geom.orientationLetters()
	return s, s.Validate()
}

// frameDecoder returns the number of frames and how to decode frame i:
// encapsulated fragments joined into frames, or native frames cut from the
// pixel data's bytes.
func (h *header) frameDecoder(pe *dcm.Element, info dcm.PixelDataInfo) (int, func(int) ([]float32, error), error) {
	if info.IsEncapsulated {
		if len(info.Frames) == 0 {
			return 0, nil, ErrNoPixels
		}
		frames := assemble(info.Frames, h.frames)
		return len(frames), func(i int) ([]float32, error) { return h.decodeFrame(frames[i]) }, nil
	}
	if !info.IntentionallyUnprocessed || len(info.UnprocessedValueData) == 0 {
		return 0, nil, ErrNoPixels
	}
	nat, err := h.native(info.UnprocessedValueData, pe.RawValueRepresentation)
	if err != nil {
		return 0, nil, err
	}
	return h.frames, func(i int) ([]float32, error) { return h.toValues(nat.frame(i), h.planar) }, nil
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

func (h *header) checkImage() error {
	if reason := nonImage(h.sopClass); reason != "" {
		return fmt.Errorf("%s: %w", reason, ErrNotImage)
	}
	if h.rows <= 0 || h.cols <= 0 {
		return ErrNoPixels
	}
	switch h.bitsAllocated {
	case 1, 8, 16, 32:
	default:
		return fmt.Errorf("%d bits allocated: %w", h.bitsAllocated, ErrUnsupportedSyntax)
	}
	return nil
}

// assemble joins fragments into frames when a frame spans several of them:
// all fragments make the one frame of a single-frame image; otherwise a
// fragment that starts a codestream (JPEG SOI, JPEG 2000 SOC) starts a
// frame.
func assemble(frags []*frame.Frame, nframes int) []*frame.Frame {
	if len(frags) <= nframes {
		return frags
	}
	var out []*frame.Frame
	for i, f := range frags {
		d := f.EncapsulatedData.Data
		starts := len(d) >= 2 && d[0] == 0xFF && (d[1] == 0xD8 || d[1] == 0x4F)
		if i == 0 || (nframes > 1 && starts) {
			out = append(out, &frame.Frame{Encapsulated: true, EncapsulatedData: frame.EncapsulatedFrame{Data: append([]byte(nil), d...)}})
			continue
		}
		last := &out[len(out)-1].EncapsulatedData
		last.Data = append(last.Data, d...)
	}
	return out
}

// decodeFrame decodes one encapsulated frame.
func (h *header) decodeFrame(fr *frame.Frame) ([]float32, error) {
	if h.syntax == syntaxJPEGBaseline {
		return h.decodeBaseline(fr)
	}
	raw, planar, err := h.decodeCompressed(fr.EncapsulatedData.Data)
	if err != nil {
		return nil, err
	}
	return h.toValues(raw, planar)
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
	if h.window != nil && !h.windowInverted { // once, not once a frame
		h.window.Center = -h.window.Center
		h.windowInverted = true
	}
}

// decodeBaseline decodes 8-bit JPEG baseline (and progressive) with the
// standard library's decoder, colour converted to RGB.
func (h *header) decodeBaseline(fr *frame.Frame) ([]float32, error) {
	w, ht, comps, err := jpegFrameSize(fr.EncapsulatedData.Data)
	if err != nil {
		return nil, err
	}
	if err := h.checkSize(w, ht, comps); err != nil {
		return nil, err
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
	if ycc, ok := img.(*image.YCbCr); ok && ch == 3 {
		return jpegRGB(ycc), nil
	}
	if g, ok := img.(*image.Gray); ok && ch == 1 {
		return h.greyValues(g), nil
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

// isVideoSyntax reports the MPEG-2, MPEG-4 (H.264) and HEVC transfer
// syntaxes (1.2.840.10008.1.2.4.100 to .108).
func isVideoSyntax(uid string) bool {
	return strings.HasPrefix(uid, "1.2.840.10008.1.2.4.10") && len(uid) == len("1.2.840.10008.1.2.4.100")
}

// readVideo decodes a DICOM-wrapped video stream through ffmpeg, like any
// other video file, keeping the DICOM labels.
func (h *header) readVideo(ctx context.Context, frags []*frame.Frame) (*media.Sample, error) {
	var stream []byte
	for _, f := range frags {
		stream = append(stream, f.EncapsulatedData.Data...)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	s, err := video.DecodeBytes(ctx, stream, 0)
	if err != nil {
		if !errors.Is(err, video.ErrNoFFmpeg) && ctx.Err() == nil {
			err = redact(err) // ffmpeg's last words on the stream, an element's bytes
		}
		return nil, fmt.Errorf("%s video: %w", syntaxName(h.syntax), err)
	}
	format := s.Meta.SourceFormat
	s.Meta = h.meta
	s.Meta.SourceFormat = "dicom-" + format
	s.Meta.SourceFrames = max(h.frames, s.Meta.SourceFrames, s.Frames)
	if h.frameTime > 0 {
		s.FrameTime = h.frameTime
	}
	s.Spacing = h.spacing
	s.Kind = media.Video
	return s, s.Validate()
}
