package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/m3ret/viewer/library/media"
)

// lookPath and executable find the programs; tests replace them.
var (
	lookPath   = exec.LookPath
	executable = os.Executable
)

// errNoOutput means ffmpeg ran but produced no frame.
var errNoOutput = errors.New("ffmpeg decoded no frame")

// tool returns the path of ffmpeg or ffprobe: on PATH, else beside the
// running executable.
func tool(name string) (string, error) {
	if p, err := lookPath(name); err == nil {
		return p, nil
	}
	if exe, err := executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if runtime.GOOS == "windows" {
			p += ".exe"
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && (runtime.GOOS == "windows" || st.Mode()&0o111 != 0) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrNoFFmpeg)
}

// input is a clip on disk (path) or in memory (data, fed on stdin).
type input struct {
	path string
	data []byte
}

func (in input) arg() string {
	if in.data != nil {
		return "pipe:0"
	}
	return "file:" + in.path
}

// probe is what ffprobe says about a clip's first video stream.
type probe struct {
	width, height int
	pixFmt        string
	fps           float64
	frames        int
	duration      float64
	format        string
}

type probeJSON struct {
	Streams []struct {
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		PixFmt       string `json:"pix_fmt"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		NbFrames     string `json:"nb_frames"`
		NbReadFrames string `json:"nb_read_frames"`
		Duration     string `json:"duration"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// probeInput runs ffprobe; with count, it also counts the frames by decoding
// them when the container does not record their number.
func probeInput(ctx context.Context, in input, count bool) (*probe, error) {
	pc, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	j, err := ffprobe(pc, in, "stream=width,height,pix_fmt,avg_frame_rate,r_frame_rate,nb_frames,duration:format=format_name,duration")
	if err != nil {
		return nil, err
	}
	p, err := fromJSON(j)
	if err != nil {
		return nil, err
	}
	if p.frames <= 0 && count {
		cc, cancel := context.WithTimeout(ctx, CountTimeout)
		defer cancel()
		c, err := ffprobe(cc, in, "stream=nb_read_frames", "-count_frames")
		if err != nil {
			return nil, err
		}
		if f := number(c.Streams[0].NbReadFrames); f < math.MaxInt32 {
			p.frames = int(f)
		}
	}
	if p.fps == 0 && p.frames > 0 && p.duration > 0 {
		p.fps = float64(p.frames) / p.duration
	}
	return p, nil
}

// fromJSON reads ffprobe's description of the first video stream, refusing
// absurd sizes.
func fromJSON(j *probeJSON) (*probe, error) {
	if len(j.Streams) == 0 {
		return nil, ErrNoVideo
	}
	st := j.Streams[0]
	p := &probe{width: st.Width, height: st.Height, pixFmt: st.PixFmt, format: j.Format.FormatName}
	if p.width <= 0 || p.height <= 0 || p.width > MaxDim || p.height > MaxDim {
		return nil, fmt.Errorf("%dx%d: %w", p.width, p.height, ErrTooLarge)
	}
	p.fps = rate(st.AvgFrameRate)
	if p.fps == 0 {
		p.fps = rate(st.RFrameRate)
	}
	p.duration = number(j.Format.Duration)
	if p.duration == 0 {
		p.duration = number(st.Duration)
	}
	if f := number(st.NbFrames); f < math.MaxInt32 {
		p.frames = int(f)
	}
	return p, nil
}

func ffprobe(ctx context.Context, in input, entries string, extra ...string) (*probeJSON, error) {
	args := append([]string{"-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "json"}, extra...)
	var out bytes.Buffer
	if err := run(ctx, "ffprobe", in, append(args, "-i", in.arg()), &out); err != nil {
		return nil, err
	}
	var j probeJSON
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		return nil, fmt.Errorf("parse ffprobe output: %w", err)
	}
	if len(j.Streams) == 0 {
		return nil, ErrNoVideo
	}
	return &j, nil
}

// rate parses a frame rate such as "30000/1001"; 0 when unknown.
func rate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return number(s)
	}
	n, d := number(num), number(den)
	if d == 0 {
		return 0
	}
	return n / d
}

func number(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// outputSize scales w x h down to fit MaxSide, keeping the aspect ratio.
func outputSize(w, h int) (int, int) {
	if m := max(w, h); m > MaxSide {
		w = max(1, int(math.Round(float64(w)*MaxSide/float64(m))))
		h = max(1, int(math.Round(float64(h)*MaxSide/float64(m))))
	}
	return w, h
}

// grey reports whether a pixel format carries no colour.
func grey(pixFmt string) bool {
	return strings.HasPrefix(pixFmt, "gray") || strings.HasPrefix(pixFmt, "ya") || strings.HasPrefix(pixFmt, "mono")
}

// decode runs ffmpeg to decode the frames at indices (all when nil) to raw
// grey or RGB on its standard output.
func decode(ctx context.Context, in input, p *probe, indices []int) (*media.Sample, error) {
	w, h := outputSize(p.width, p.height)
	ch, pixFmt := 3, "rgb24"
	if grey(p.pixFmt) {
		ch, pixFmt = 1, "gray"
	}
	filter := fmt.Sprintf("scale=%d:%d:flags=area,format=%s", w, h, pixFmt)
	limit := MaxFrames
	if indices != nil {
		terms := make([]string, len(indices))
		for i, n := range indices {
			terms[i] = fmt.Sprintf("eq(n,%d)", n)
		}
		filter = "select='" + strings.Join(terms, "+") + "'," + filter
		limit = len(indices)
	}
	args := []string{"-v", "error", "-i", in.arg(), "-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", filter, "-fps_mode", "passthrough", "-frames:v", strconv.Itoa(limit),
		"-f", "rawvideo", "-pix_fmt", pixFmt, "pipe:1"}
	if in.data == nil {
		args = append([]string{"-nostdin"}, args...)
	}
	frameLen := w * h * ch
	out := &frameBuffer{max: limit * frameLen}
	dc, cancel := context.WithTimeout(ctx, DecodeTimeout)
	defer cancel()
	if err := run(dc, "ffmpeg", in, args, out); err != nil {
		return nil, err
	}
	n := len(out.b) / frameLen
	if n == 0 {
		return nil, errNoOutput
	}
	if indices != nil && n < len(indices) {
		return nil, fmt.Errorf("decoded %d of %d sampled frames: %w", n, len(indices), ErrTruncated)
	}
	s := &media.Sample{Kind: media.Video, Width: w, Height: h, Frames: n, Channels: ch,
		Data: make([]float32, n*frameLen)}
	for i, v := range out.b[:n*frameLen] {
		s.Data[i] = float32(v)
	}
	collapseGrey(s)
	s.Meta.Photometric = map[int]string{1: "MONOCHROME2", 3: "RGB"}[s.Channels]
	return s, nil
}

// collapseGrey turns an RGB sample whose every pixel is grey into one
// channel.
func collapseGrey(s *media.Sample) {
	if s.Channels != 3 {
		return
	}
	for i := 0; i < len(s.Data); i += 3 {
		if s.Data[i] != s.Data[i+1] || s.Data[i+1] != s.Data[i+2] {
			return
		}
	}
	g := make([]float32, len(s.Data)/3)
	for i := range g {
		g[i] = s.Data[3*i]
	}
	s.Data, s.Channels = g, 1
}

// frameBuffer keeps up to max bytes and discards the rest.
type frameBuffer struct {
	b   []byte
	max int
}

func (f *frameBuffer) Write(p []byte) (int, error) {
	if room := f.max - len(f.b); room > 0 {
		f.b = append(f.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// tail keeps the last bytes written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

// run runs ffmpeg or ffprobe with args, stdout to out. Its stderr is kept
// for the error message only, with the input path removed.
func run(ctx context.Context, name string, in input, args []string, out io.Writer) error {
	bin, err := tool(name)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = time.Second // a killed child's pipes never hold a cancel up
	cmd.Stdout = out
	var stderr tail
	cmd.Stderr = &stderr
	if in.data != nil {
		cmd.Stdin = bytes.NewReader(in.data)
	}
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", name, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("%s: %w%s", name, err, message(stderr.b, in.path))
	}
	return nil
}

// message returns the last line of stderr, without the path, as ": text".
func message(stderr []byte, path string) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if path != "" {
		last = strings.ReplaceAll(last, "file:"+path, "input")
		last = strings.ReplaceAll(last, path, "input")
		last = strings.ReplaceAll(last, filepath.Base(path), "input")
	}
	if len(last) > 200 {
		last = last[:200]
	}
	if last == "" {
		return ""
	}
	return ": " + last
}
