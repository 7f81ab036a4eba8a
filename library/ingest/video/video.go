// Package video reads video clips (mp4, mov, avi, mkv, webm and anything
// else ffprobe reads: endoscopy, ultrasound cine, angiography runs) into
// media samples through the ffprobe and ffmpeg programs, found on PATH or
// next to the running executable.
//
// ReadFile probes the clip (size, frame rate, duration and frame count,
// counting the frames by decoding them when the container does not say),
// then decodes up to MaxFrames frames sampled evenly across it, scaled down
// to fit MaxSide, through a pipe: no temporary files. A sample has 3
// channels for colour sources and 1 when the source's pixel format is grey
// or every decoded pixel is grey (an H.264 4:0:0 or MJPEG clip of an X-ray
// cine decodes as YUV with neutral chroma). FrameTime is 1000/fps ms,
// Meta.SourceFrames the clip's frame count, Meta.Duration its length in
// seconds, Meta.SourceFormat the container (mp4, avi, mkv, ...). Modality,
// body part and description come from a sidecar or the parent folder's name
// (raster.LabelsFor: "ES-colon/run1.mp4" is ES, COLON), else OT.
//
// Every external process runs under a timeout; ffmpeg's messages are never
// logged (they name the file), and errors quote them with the path removed.
package video

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/m3ret/viewer/library/ingest/raster"
	"github.com/m3ret/viewer/library/media"
)

// Limits on what the reader decodes.
const (
	// MaxFrames is the number of frames ReadFile samples from a clip.
	MaxFrames = 64
	// MaxSide bounds the longer side of decoded frames; larger clips are
	// scaled down, keeping their aspect ratio.
	MaxSide = 512
	// MaxDim bounds the width and height a clip may declare.
	MaxDim = 16384
)

// Timeouts for the external programs; variables so that tests and callers
// with unusual clips can change them.
var (
	ProbeTimeout  = 30 * time.Second
	CountTimeout  = 10 * time.Minute // counting frames decodes the whole clip
	DecodeTimeout = 10 * time.Minute
)

// Errors returned by the reader.
var (
	ErrNoFFmpeg  = errors.New("ffmpeg not found: install ffmpeg to import videos")
	ErrNoVideo   = errors.New("no video stream")
	ErrNoFrame   = errors.New("no such video frame")
	ErrTooLarge  = errors.New("video dimensions too large")
	ErrTruncated = errors.New("video truncated or corrupt")
)

// ReadFile decodes up to MaxFrames frames, sampled evenly, of the clip at
// path.
func ReadFile(path string) (*media.Sample, error) {
	return ReadFileContext(context.Background(), path)
}

// ReadFileContext is ReadFile stopping when ctx is done: ffprobe and ffmpeg
// are killed and ctx.Err() is returned.
func ReadFileContext(ctx context.Context, path string) (*media.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, CountTimeout+DecodeTimeout)
	defer cancel()
	p, err := probeInput(ctx, input{path: path}, true)
	if err != nil {
		return nil, err
	}
	s, err := decode(ctx, input{path: path}, p, evenly(p.frames, MaxFrames))
	if err != nil {
		return nil, err
	}
	return s, label(s, path, p)
}

// Frame decodes frame index (0-based, in decoding order) of the clip at
// path, at the size ReadFile gives its frames.
func Frame(path string, index int) (*media.Sample, error) {
	if index < 0 {
		return nil, fmt.Errorf("frame %d: %w", index, ErrNoFrame)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DecodeTimeout)
	defer cancel()
	p, err := probeInput(ctx, input{path: path}, false)
	if err != nil {
		return nil, err
	}
	if p.frames > 0 && index >= p.frames {
		return nil, fmt.Errorf("frame %d of %d: %w", index, p.frames, ErrNoFrame)
	}
	s, err := decode(ctx, input{path: path}, p, []int{index})
	if errors.Is(err, errNoOutput) {
		return nil, fmt.Errorf("frame %d: %w", index, ErrNoFrame)
	}
	if err != nil {
		return nil, err
	}
	return s, label(s, path, p)
}

// DecodeBytes decodes up to maxFrames frames (MaxFrames when maxFrames <= 0),
// sampled evenly, of a clip held in memory: a container or an elementary
// stream such as the MPEG-2 or H.264 data encapsulated in a DICOM file. The
// data reach ffmpeg on its standard input. Modality and the other labels are
// left to the caller; SourceFormat is ffprobe's name for the format.
func DecodeBytes(ctx context.Context, data []byte, maxFrames int) (*media.Sample, error) {
	if maxFrames <= 0 {
		maxFrames = MaxFrames
	}
	in := input{data: data}
	p, err := probeInput(ctx, in, true)
	if err != nil {
		return nil, err
	}
	s, err := decode(ctx, in, p, evenly(p.frames, maxFrames))
	if err != nil {
		return nil, err
	}
	setTiming(s, p)
	s.Meta.SourceFormat = firstName(p.format)
	return s, nil
}

// label fills the metadata of a sample read from the file at path.
func label(s *media.Sample, path string, p *probe) error {
	setTiming(s, p)
	s.Meta.SourceFormat = containerName(path, p.format)
	l, err := raster.LabelsFor(path)
	if err != nil {
		return err
	}
	s.Meta.Modality, s.Meta.BodyPart, s.Meta.SeriesDescription = l.Modality, l.BodyPart, l.Description
	return nil
}

func setTiming(s *media.Sample, p *probe) {
	if p.fps > 0 {
		s.FrameTime = 1000 / p.fps
	}
	s.Meta.SourceFrames = p.frames
	s.Meta.Duration = p.duration
}

// evenly returns up to n frame indices spread evenly over total frames,
// starting at 0; all of them when total <= n; nil when total is unknown.
func evenly(total, n int) []int {
	if total <= 0 {
		return nil
	}
	if total <= n {
		n = total
	}
	out := make([]int, n)
	for k := range out {
		out[k] = int(int64(k) * int64(total) / int64(n))
	}
	return out
}

var containers = map[string]string{
	".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".qt": "mov", ".avi": "avi", ".mkv": "mkv",
	".webm": "webm", ".mpg": "mpeg", ".mpeg": "mpeg", ".ogv": "ogg", ".wmv": "asf", ".flv": "flv",
	".ts": "mpegts", ".m2ts": "mpegts", ".3gp": "3gp",
}

// containerName names the container: by extension when ffprobe's format
// name covers a family (mov,mp4,m4a,...), else ffprobe's first name.
func containerName(path, format string) string {
	if c, ok := containers[strings.ToLower(filepath.Ext(path))]; ok {
		return c
	}
	return firstName(format)
}

func firstName(format string) string {
	name, _, _ := strings.Cut(format, ",")
	return name
}

// Sniff reports whether a file whose first bytes are head and whose name is
// path looks like a video: an ISO BMFF/QuickTime "ftyp" box (not a HEIF or
// AVIF still), a RIFF AVI, an EBML (Matroska/WebM) header, or a video
// extension.
func Sniff(head []byte, path string) bool {
	h := string(head)
	switch {
	case len(h) >= 12 && h[4:8] == "ftyp":
		switch h[8:12] {
		case "heic", "heix", "mif1", "msf1", "avif", "crx ", "jp2 ":
			return false
		}
		return true
	case len(h) >= 12 && h[:4] == "RIFF" && h[8:12] == "AVI ":
		return true
	case strings.HasPrefix(h, "\x1a\x45\xdf\xa3"):
		return true
	}
	_, ok := containers[strings.ToLower(filepath.Ext(path))]
	return ok
}
