package dicom

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	dcm "github.com/suyashkumar/dicom"

	"github.com/m3ret/viewer/library/media"
)

// MaxSeriesValues bounds the values a series sample holds: a longer stack
// is read as slices sampled evenly along it (Meta.SourceFrames keeps the
// true count), so a 3,000-slice CT imports in bounded memory.
const MaxSeriesValues = 64 << 20

// Header is what grouping needs from one file, read without its pixels.
type Header struct {
	Path        string
	SeriesUID   string
	InstanceUID string
	Modality    string
	Rows, Cols  int
	Frames      int
	place       placement
}

// ReadHeader reads the attributes of a DICOM file up to its pixel data.
// Non-image objects fail with ErrNotImage and the reason.
func ReadHeader(r io.ReadSeeker, size int64) (Header, error) {
	return ReadHeaderContext(context.Background(), r, size)
}

// ReadHeaderContext is ReadHeader stopping, with ctx.Err(), when ctx is
// done.
func ReadHeaderContext(ctx context.Context, r io.ReadSeeker, size int64) (hd Header, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicErr(p)
		}
	}()
	return readHeaderUnguarded(ctx, r, size)
}

// readHeaderUnguarded is ReadHeaderContext without the recover (for
// FuzzReadUnguarded).
func readHeaderUnguarded(ctx context.Context, r io.ReadSeeker, size int64) (hd Header, err error) {
	in, n, err := open(ctx, r, size)
	if err != nil {
		return hd, err
	}
	ds, err := dcm.Parse(in, n, nil, dcm.SkipPixelData(), dcm.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return hd, fmt.Errorf("parse dicom: %w", redact(err))
	}
	h := readHeader(&ds)
	if err := h.checkImage(); err != nil {
		return hd, err
	}
	return Header{SeriesUID: h.meta.SeriesUID, InstanceUID: h.meta.InstanceUID, Modality: h.meta.Modality,
		Rows: h.rows, Cols: h.cols, Frames: h.frames, place: h.geom}, nil
}

// crossSectional reports modalities whose single-frame instances stack
// into volumes.
func crossSectional(modality string) bool {
	switch modality {
	case "CT", "MR", "PT", "NM", "OCT":
		return true
	}
	return false
}

// Group splits headers into items: each multi-frame file and each
// projection image alone; the single-frame slices of a cross-sectional
// series together, split only where the orientation or the matrix size
// changes, in slice order (position along the normal, else Instance
// Number).
func Group(hs []Header) [][]Header {
	stacks := map[string][]Header{}
	var keys []string
	var out [][]Header
	for _, h := range hs {
		if h.Frames > 1 || h.SeriesUID == "" || !crossSectional(h.Modality) {
			out = append(out, []Header{h})
			continue
		}
		k := h.SeriesUID + "|" + stackKey(h)
		if _, ok := stacks[k]; !ok {
			keys = append(keys, k)
		}
		stacks[k] = append(stacks[k], h)
	}
	for _, k := range keys {
		out = append(out, sortSlices(stacks[k]))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][0].Path < out[j][0].Path })
	return out
}

// stackKey is what must agree for slices to share a volume: matrix size
// and orientation (to a tolerance of about a degree).
func stackKey(h Header) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%dx%d", h.Cols, h.Rows)
	if h.place.hasOrient {
		for _, v := range h.place.orientation {
			fmt.Fprintf(&b, ",%.2f", v+0) // +0 turns -0 into 0
		}
	}
	return b.String()
}

func sortSlices(s []Header) []Header {
	byPos := true
	for _, h := range s {
		byPos = byPos && h.place.hasPos && h.place.hasOrient
	}
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i].place, s[j].place
		if byPos && a.along() != b.along() {
			return a.along() < b.along()
		}
		if a.instance != b.instance {
			return a.instance < b.instance
		}
		return s[i].Path < s[j].Path
	})
	return s
}

// sliceGap is the median distance between neighbouring slices along the
// normal, 0 when positions are unknown.
func sliceGap(s []Header) float64 {
	var gaps []float64
	for i := 1; i < len(s); i++ {
		a, b := s[i-1].place, s[i].place
		if !a.hasPos || !a.hasOrient || !b.hasPos {
			return 0
		}
		if g := math.Abs(b.along() - a.along()); g > 1e-6 {
			gaps = append(gaps, g)
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// Opener opens a file for ReadSeries: the reader, its size and a closer.
type Opener func(path string) (io.ReadSeeker, int64, func() error, error)

// ReadSeries reads the slices of one stack (as Group returned it) into a
// volume, one file at a time into a sample allocated once. A stack longer
// than MaxSeriesValues allows is sampled evenly. It stops between slices,
// and inside one, when ctx is done.
func ReadSeries(ctx context.Context, stack []Header, open Opener) (*media.Sample, error) {
	return ReadSeriesFrom(ctx, stack, open, nil)
}

// ReadSeriesFrom is ReadSeries taking each slice from decoded when it
// has it (a slice decoded ahead, while the series was still arriving, by
// ReadSlice), reading the others.
func ReadSeriesFrom(ctx context.Context, stack []Header, open Opener, decoded func(path string) *media.Sample) (*media.Sample, error) {
	if len(stack) == 0 {
		return nil, ErrNoPixels
	}
	keep := Kept(len(stack), stack[0].Rows, stack[0].Cols)
	var s *media.Sample
	for k, i := range keep {
		var sl *media.Sample
		var err error
		if decoded != nil {
			sl = decoded(stack[i].Path)
		}
		if sl == nil {
			sl, err = ReadSlice(ctx, stack[i].Path, open)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("slice %d: %w", i+1, err)
		}
		if sl.Frames != 1 || sl.Width != stack[0].Cols || sl.Height != stack[0].Rows {
			return nil, fmt.Errorf("slice %d: size differs from the series", i+1)
		}
		if s == nil {
			first := *sl
			s = &first
			s.Data = make([]float32, 0, len(keep)*sl.FrameLen())
		} else if sl.Channels != s.Channels {
			return nil, fmt.Errorf("slice %d: colour differs from the series", i+1)
		}
		s.Data = append(s.Data, sl.Data...)
		s.Frames = k + 1
	}
	s.Kind = media.Volume
	if len(stack) == 1 {
		s.Kind = media.Image2D
	}
	if gap := sliceGap(stack); gap > 0 {
		s.Spacing[2] = gap
	}
	if len(keep) < len(stack) {
		s.Meta.SourceFrames = len(stack)
		s.Spacing[2] *= float64(len(stack)-1) / float64(max(len(keep)-1, 1))
	}
	s.Meta.InstanceUID = ""
	s.Meta.Orientation = stack[0].place.orientationLetters()
	return s, s.Validate()
}

// Kept is which of a stack's n slices of rows×cols a series sample holds,
// by their rank in slice order: all of them, or as many as MaxSeriesValues
// allows, evenly spread, the first and last always in.
func Kept(n, rows, cols int) []int {
	return pickSlices(n, max(1, MaxSeriesValues/max(rows*cols, 1)))
}

// InstanceNumber is the slice's Instance Number (0 when absent): most
// series number their slices in slice order, one way or the other.
func (h Header) InstanceNumber() int { return h.place.instance }

// ReadSlice decodes one slice of a stack, as ReadSeries does.
func ReadSlice(ctx context.Context, path string, open Opener) (*media.Sample, error) {
	r, size, closeFn, err := open(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return ReadContext(ctx, r, size)
}

// pickSlices chooses at most limit of n slice indices, evenly spread and
// always including the first and last.
func pickSlices(n, limit int) []int {
	m := min(n, limit)
	out := make([]int, m)
	for i := range m {
		if m == 1 {
			out[i] = n / 2
			continue
		}
		out[i] = int(math.Round(float64(i) * float64(n-1) / float64(m-1)))
	}
	return out
}
