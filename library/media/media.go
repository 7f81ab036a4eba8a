// Package media holds the neutral in-memory image types shared by ingestion,
// inference and the viewer: a Sample is a stack of frames (one for a 2D image,
// slices for a volume, frames for a video) of float32 samples with spacing and
// the metadata the library indexes. It depends on the standard library only.
package media

import (
	"errors"
	"fmt"
)

// Kind says how a sample's frames relate to each other.
type Kind string

// The kinds of item the library holds.
const (
	Image2D Kind = "image2d" // one projection image (X-ray, US still, photo)
	Volume  Kind = "volume"  // slices along the acquisition axis (CT, MR, PT)
	Video   Kind = "video"   // frames in time (cine, endoscopy, US clip)
)

// ErrEmpty is returned by Validate for a sample without pixels.
var ErrEmpty = errors.New("sample has no pixels")

// Meta is the descriptive metadata of a sample. Fields hold protected health
// information: never log them.
type Meta struct {
	Modality          string // DICOM modality code: CT, MR, DX, US, XA, OT, ...
	BodyPart          string
	StudyDate         string // YYYYMMDD when known
	SeriesDescription string
	PatientID         string
	SeriesUID         string
	InstanceUID       string // SOP Instance UID for DICOM; empty otherwise
	SourceFormat      string // dicom, nifti, mp4, png, jpeg, ...
	Photometric       string
	// SourceFrames is the number of slices or frames in the source when the
	// sample holds fewer (a long video sampled evenly, a very long series
	// thinned to fit memory); zero means the sample holds them all.
	SourceFrames int
	// Volumes is the length of the fourth dimension of a 4-D source (fMRI,
	// DWI); the sample holds volume 0. Zero or one for everything else.
	Volumes int
	// Duration is the length of a video in seconds, when known.
	Duration float64
	// Orientation names the patient direction that +x, +y and +t point to,
	// one letter each from R/L, A/P, S/I: "LPS" is an axial stack seen the
	// radiological way (x to the patient's left, y to the back) ordered feet
	// to head. Empty when unknown.
	Orientation string
}

// TotalFrames is the number of slices or frames in the source.
func (s *Sample) TotalFrames() int {
	if s.Meta.SourceFrames > s.Frames {
		return s.Meta.SourceFrames
	}
	return s.Frames
}

// Window is a display window (centre and width) in stored value units after
// rescale (HU for CT).
type Window struct {
	Center, Width float64
}

// VOILUT is a DICOM VOI LUT: values from First on map to Data[v-First]
// (clamped at both ends), in a range of Bits bits.
type VOILUT struct {
	First int
	Bits  int
	Data  []uint16
}

// Sample is a decoded image, volume or video. Pixel (x, y) of frame t,
// channel c is Data[((t*Height+y)*Width+x)*Channels+c].
type Sample struct {
	Kind     Kind
	Width    int
	Height   int
	Frames   int
	Channels int // 1 (grey) or 3 (RGB)
	Data     []float32
	// Spacing is the size of a pixel in mm (x, y) and the distance between
	// slices (z); zero when unknown.
	Spacing [3]float64
	// FrameTime is the time between video frames in milliseconds, when known.
	FrameTime float64
	// Window is the default display window, nil when the source gives none.
	Window *Window
	// VOI is the source's VOI lookup table for display, nil when none.
	VOI  *VOILUT
	Meta Meta
}

// Validate checks that the dimensions and the data agree.
func (s *Sample) Validate() error {
	if s.Width <= 0 || s.Height <= 0 || s.Frames <= 0 {
		return fmt.Errorf("dimensions %dx%dx%d: %w", s.Width, s.Height, s.Frames, ErrEmpty)
	}
	if s.Channels != 1 && s.Channels != 3 {
		return fmt.Errorf("unsupported channel count %d", s.Channels)
	}
	if want := s.Width * s.Height * s.Frames * s.Channels; len(s.Data) != want {
		return fmt.Errorf("data has %d values, dimensions need %d", len(s.Data), want)
	}
	return nil
}

// FrameLen is the number of values in one frame.
func (s *Sample) FrameLen() int { return s.Width * s.Height * s.Channels }

// Frame returns the values of frame t (shared, not copied).
func (s *Sample) Frame(t int) []float32 {
	n := s.FrameLen()
	return s.Data[t*n : (t+1)*n]
}

// Grey returns frame t as one value per pixel: the frame itself for grey
// samples, the Rec. 601 luma for RGB.
func (s *Sample) Grey(t int) []float32 {
	f := s.Frame(t)
	if s.Channels == 1 {
		return f
	}
	out := make([]float32, s.Width*s.Height)
	for i := range out {
		r, g, b := f[3*i], f[3*i+1], f[3*i+2]
		out[i] = 0.299*r + 0.587*g + 0.114*b
	}
	return out
}
