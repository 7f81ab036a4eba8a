package nifti

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// Every datatype in both byte orders and both header versions decodes to
// the values written (synthetic 3x2x2 volumes, voxels already in LPS order).
func TestDatatypes(t *testing.T) {
	vals := []float64{0, 1, -2, 300, 7, 100, 5, 6, 8, 9, 10, 11}
	types := []struct {
		name string
		code int16
		want []float64
	}{
		{"uint8", 2, []float64{0, 1, 254, 44, 7, 100, 5, 6, 8, 9, 10, 11}},
		{"int8", 256, []float64{0, 1, -2, 44, 7, 100, 5, 6, 8, 9, 10, 11}},
		{"int16", 4, vals},
		{"uint16", 512, []float64{0, 1, 65534, 300, 7, 100, 5, 6, 8, 9, 10, 11}},
		{"int32", 8, vals},
		{"uint32", 768, []float64{0, 1, 4294967294, 300, 7, 100, 5, 6, 8, 9, 10, 11}},
		{"float32", 16, vals},
		{"float64", 64, vals},
	}
	for _, version := range []int{1, 2} {
		for _, big := range []bool{false, true} {
			for _, tc := range types {
				name := tc.name + map[bool]string{false: "-le", true: "-be"}[big] + map[int]string{1: "-n1", 2: "-n2"}[version]
				t.Run(name, func(t *testing.T) {
					sp := spec{version: version, big: big, dims: []int{3, 3, 2, 2}, datatype: tc.code,
						pixdim: [4]float64{1, 1, 1, 1}, scode: 2, srow: lps}
					in := vals
					if tc.code == 2 || tc.code == 256 {
						in = []float64{0, 1, -2, 300 - 256, 7, 100, 5, 6, 8, 9, 10, 11}
					}
					s := readBytes(t, "a.nii", sp.file(sp.encode(in...)))
					for i, w := range tc.want {
						if float64(s.Data[i]) != float64(float32(w)) {
							t.Fatalf("voxel %d = %v, want %v", i, s.Data[i], w)
						}
					}
				})
			}
		}
	}
}

// readBytes writes data to a temporary file called name and reads it.
func readBytes(t *testing.T, name string, data []byte) *media.Sample {
	t.Helper()
	s, err := ReadFile(write(t, t.TempDir(), name, data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRGB24(t *testing.T) {
	sp := spec{version: 1, dims: []int{3, 2, 1, 1}, datatype: 128, pixdim: [4]float64{1, 1, 1, 1}, scode: 1, srow: lps,
		slope: 2, inter: 5} // RGB is never scaled
	s := readBytes(t, "c.nii", sp.file([]byte{255, 0, 0, 0, 255, 10}))
	if s.Channels != 3 || s.Kind != media.Image2D || s.Meta.Photometric != "RGB" {
		t.Fatalf("channels %d kind %s %s", s.Channels, s.Kind, s.Meta.Photometric)
	}
	if want := []float32{255, 0, 0, 0, 255, 10}; !slices.Equal(s.Data, want) {
		t.Fatalf("data %v, want %v", s.Data, want)
	}
}

func TestScaling(t *testing.T) {
	for _, tc := range []struct {
		name         string
		slope, inter float64
		want         []float32
	}{
		{"slope and intercept", 2, -1, []float32{-1, 1, 3, 5}},
		{"slope 0 is none", 0, 7, []float32{0, 1, 2, 3}},
		{"NaN slope is none", math.NaN(), 7, []float32{0, 1, 2, 3}},
		{"fractional", 0.5, 0.25, []float32{0.25, 0.75, 1.25, 1.75}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := spec{version: 1, dims: []int{2, 4, 1}, datatype: 4, pixdim: [4]float64{1, 1, 1, 1},
				scode: 1, srow: lps, slope: tc.slope, inter: tc.inter}
			s := readBytes(t, "s.nii", sp.file(sp.encode(0, 1, 2, 3)))
			if !slices.Equal(s.Data, tc.want) {
				t.Fatalf("data %v, want %v", s.Data, tc.want)
			}
		})
	}
}

// A 3x4x2 volume with a marker at voxel (i, j, k) = (0, 0, 0); each affine
// puts it somewhere known in the display (x, y, frame) order.
func TestOrientation(t *testing.T) {
	id := [3][4]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}
	tests := []struct {
		name      string
		sp        spec
		w, h, f   int
		x, y, fr  int // where voxel (0,0,0) lands
		spacing   [3]float64
		wantOrder string
	}{
		{"sform RAS", spec{scode: 2, srow: id}, 3, 4, 2, 2, 3, 0, [3]float64{1, 1, 1}, "LPS"},
		{"sform LPS", spec{scode: 2, srow: lps}, 3, 4, 2, 0, 0, 0, [3]float64{1, 1, 1}, "LPS"},
		{"sform preferred to qform", spec{scode: 2, srow: lps, qcode: 1}, 3, 4, 2, 0, 0, 0, [3]float64{1, 1, 1}, "LPS"},
		{"sform permuted PLS with zooms", spec{scode: 1, srow: [3][4]float64{{0, -2, 0, 0}, {-3, 0, 0, 0}, {0, 0, 5, 0}}},
			4, 3, 2, 0, 0, 0, [3]float64{2, 3, 5}, "LPS"},
		{"sform inferior to superior flipped", spec{scode: 1, srow: [3][4]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, -1, 0}}},
			3, 4, 2, 2, 3, 1, [3]float64{1, 1, 1}, "LPS"},
		{"qform identity", spec{qcode: 1, pixdim: [4]float64{1, 2, 3, 4}}, 3, 4, 2, 2, 3, 0, [3]float64{2, 3, 4}, "LPS"},
		// b, c, d = 0, 0, 1: 180° about z, so i runs to L and j to P.
		{"qform 180 about z", spec{qcode: 1, quatern: [3]float64{0, 0, 1}}, 3, 4, 2, 0, 0, 0, [3]float64{1, 1, 1}, "LPS"},
		// qfac -1 flips k.
		{"qform qfac -1", spec{qcode: 1, pixdim: [4]float64{-1, 1, 1, 1}}, 3, 4, 2, 2, 3, 1, [3]float64{1, 1, 1}, "LPS"},
		// Coronal acquisition, b = sin45°: +90° about x, so i→R, j→S, k→P.
		{"qform coronal", spec{qcode: 1, quatern: [3]float64{math.Sqrt2 / 2, 0, 0}}, 3, 2, 4, 2, 0, 0, [3]float64{1, 1, 1}, "LPS"},
		{"pixdim only", spec{pixdim: [4]float64{0, 2, 2, 3}}, 3, 4, 2, 2, 3, 0, [3]float64{2, 2, 3}, "LPS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := tc.sp
			sp.version, sp.dims, sp.datatype = 1, []int{3, 3, 4, 2}, 4
			if sp.pixdim == [4]float64{} {
				sp.pixdim = [4]float64{1, 1, 1, 1}
			}
			vals := make([]float64, 24)
			vals[0] = 99
			s := readBytes(t, "o.nii", sp.file(sp.encode(vals...)))
			if s.Width != tc.w || s.Height != tc.h || s.Frames != tc.f {
				t.Fatalf("display %dx%dx%d, want %dx%dx%d", s.Width, s.Height, s.Frames, tc.w, tc.h, tc.f)
			}
			if got := s.Data[(tc.fr*s.Height+tc.y)*s.Width+tc.x]; got != 99 {
				t.Fatalf("marker not at (%d,%d,%d): %v", tc.x, tc.y, tc.fr, s.Data)
			}
			for k := range s.Spacing {
				if math.Abs(s.Spacing[k]-tc.spacing[k]) > 1e-6 {
					t.Fatalf("spacing %v, want %v", s.Spacing, tc.spacing)
				}
			}
			if s.Meta.Orientation != tc.wantOrder || s.Kind != media.Volume {
				t.Fatalf("orientation %q kind %s", s.Meta.Orientation, s.Kind)
			}
		})
	}
}

func TestSingleSlice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dims   []int
		srow   [3][4]float64
		kind   media.Kind
		orient string
		w, h   int
	}{
		{"axial nz=1", []int{3, 3, 2, 1}, lps, media.Image2D, "LPS", 3, 2},
		{"coronal ny=1", []int{3, 3, 1, 2}, lps, media.Image2D, "LIP", 3, 2},
		{"sagittal nx=1", []int{3, 1, 3, 2}, lps, media.Image2D, "PIL", 3, 2},
		{"2-D dim[0]=2", []int{2, 4, 2}, lps, media.Image2D, "LPS", 4, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := spec{version: 1, dims: tc.dims, datatype: 2, pixdim: [4]float64{1, 1, 1, 1}, scode: 1, srow: tc.srow}
			n := 1
			for _, d := range tc.dims[1:] {
				n *= d
			}
			s := readBytes(t, "p.nii", sp.file(sp.encode(ramp(n)...)))
			if s.Kind != tc.kind || s.Meta.Orientation != tc.orient || s.Width != tc.w || s.Height != tc.h || s.Frames != 1 {
				t.Fatalf("kind %s %q %dx%dx%d", s.Kind, s.Meta.Orientation, s.Width, s.Height, s.Frames)
			}
		})
	}
}

// 4-D files, plain and gzipped: volume 0 by ReadFile, the others by
// ReadVolume, and an error past the end.
func TestVolumes(t *testing.T) {
	sp := spec{version: 1, dims: []int{4, 2, 1, 1, 3}, datatype: 4, pixdim: [4]float64{1, 1, 1, 1}, scode: 1, srow: lps}
	file := sp.file(sp.encode(1, 2, 10, 20, 100, 200))
	dir := t.TempDir()
	for _, p := range []string{write(t, dir, "v.nii", file), write(t, dir, "v.nii.gz", gz(t, file))} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			s, err := ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if s.Meta.Volumes != 3 || !slices.Equal(s.Data, []float32{1, 2}) {
				t.Fatalf("volumes %d data %v", s.Meta.Volumes, s.Data)
			}
			v2, err := ReadVolume(p, 2)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v2.Data, []float32{100, 200}) {
				t.Fatalf("volume 2: %v", v2.Data)
			}
			for _, bad := range []int{-1, 3} {
				if _, err := ReadVolume(p, bad); !errors.Is(err, ErrNoVolume) {
					t.Fatalf("volume %d: %v", bad, err)
				}
			}
		})
	}
}

// .hdr/.img pairs (NIfTI-1 ni1, NIfTI-2 ni2, Analyze 7.5), either half
// gzipped, read through either half.
func TestPairs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sp       spec
		hdr, img string
		want     []float32
	}{
		{"ni1", spec{version: 1, pair: true, scode: 1, srow: lps}, "a.hdr", "a.img", []float32{1, 2, 3, 4}},
		{"ni1 gz", spec{version: 1, pair: true, scode: 1, srow: lps}, "a.hdr.gz", "a.img.gz", []float32{1, 2, 3, 4}},
		{"ni2 big-endian", spec{version: 2, pair: true, big: true, scode: 1, srow: lps}, "a.HDR", "a.IMG", []float32{1, 2, 3, 4}},
		// Analyze is stored radiologically (x to the left) like LPS display.
		{"analyze", spec{version: 0, big: true}, "a.hdr", "a.img", []float32{3, 4, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := tc.sp
			sp.dims, sp.datatype, sp.pixdim = []int{2, 2, 2}, 4, [4]float64{1, 1, 1, 1}
			hdr, img := sp.header(), sp.encode(1, 2, 3, 4)
			if filepath.Ext(tc.hdr) == ".gz" {
				hdr, img = gz(t, hdr), gz(t, img)
			}
			dir := t.TempDir()
			hp := write(t, dir, tc.hdr, hdr)
			ip := write(t, dir, tc.img, img)
			if !Companion(ip) || Companion(hp) {
				t.Fatalf("Companion(img) %v Companion(hdr) %v", Companion(ip), Companion(hp))
			}
			head := hdr
			if !Sniff(head, hp) || !Sniff(img, ip) {
				t.Fatal("Sniff failed on a pair")
			}
			for _, p := range []string{hp, ip} {
				s, err := ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(s.Data, tc.want) || s.Kind != media.Image2D {
					t.Fatalf("%s: data %v kind %s", filepath.Base(p), s.Data, s.Kind)
				}
			}
			if err := os.Remove(ip); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadFile(hp); !errors.Is(err, ErrNoImageFile) {
				t.Fatalf("missing .img: %v", err)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "CT-head")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sp := spec{version: 1, dims: []int{3, 2, 2, 2}, datatype: 2, pixdim: [4]float64{1, 1, 1, 1}, descrip: "  T1 MPRAGE  "}
	p := write(t, dir, "x.nii", sp.file(sp.encode(ramp(8)...)))
	s, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Meta.Modality != "CT" || s.Meta.BodyPart != "HEAD" || s.Meta.SeriesDescription != "T1 MPRAGE" {
		t.Fatalf("meta %+v", s.Meta)
	}
	write(t, dir, "x.json", []byte(`{"Modality": "mr", "description": "from sidecar"}`))
	if s, err = ReadFile(p); err != nil {
		t.Fatal(err)
	}
	if s.Meta.Modality != "MR" || s.Meta.BodyPart != "HEAD" || s.Meta.SeriesDescription != "from sidecar" {
		t.Fatalf("meta with sidecar %+v", s.Meta)
	}
	plain := write(t, t.TempDir(), "y.nii", sp.file(sp.encode(ramp(8)...)))
	if s, err = ReadFile(plain); err != nil || s.Meta.Modality != "OT" {
		t.Fatalf("no folder convention: %v %+v", err, s)
	}
}

// Broken files fail with an error, never a panic or a huge allocation.
func TestCorrupt(t *testing.T) {
	sp := spec{version: 1, dims: []int{3, 4, 4, 4}, datatype: 4, pixdim: [4]float64{1, 1, 1, 1}}
	good := sp.file(sp.encode(ramp(64)...))
	huge := sp
	huge.dims = []int{3, 32767, 32767, 32767}
	n2huge := spec{version: 2, dims: []int{4, 1 << 20, 1 << 20, 1 << 20, 1 << 40}, datatype: 64}
	badDim := sp
	badDim.dims = []int{3, 4, 0, 4}
	badType := sp
	badType.datatype = 32 // complex64
	tests := []struct {
		name string
		file string
		data []byte
		want error
	}{
		{"empty", "e.nii", nil, ErrTruncated},
		{"header cut", "h.nii", good[:200], ErrTruncated},
		{"data cut", "d.nii", good[:len(good)-1], ErrTruncated},
		{"gz data cut", "d.nii.gz", gz(t, good[:len(good)-10]), ErrTruncated},
		{"gz stream cut", "g.nii.gz", gz(t, good)[:60], ErrTruncated},
		{"not nifti", "n.nii", bytes.Repeat([]byte("x"), 600), ErrNotNifti},
		{"huge", "big.nii", huge.file(nil), ErrTooLarge},
		{"huge nifti-2", "big2.nii", n2huge.file(nil), ErrTooLarge},
		{"zero dim", "z.nii", badDim.file(good[352:]), ErrCorrupt},
		{"complex", "c.nii", badType.file(good[352:]), ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFile(write(t, t.TempDir(), tc.file, tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += k
	return k, err
}

// A gzip bomb: a 2x2x2 image followed by 64 MiB of zeros inflates only as
// far as its 8 voxels; the compressed stream is barely touched.
func TestGzipBomb(t *testing.T) {
	sp := spec{version: 1, dims: []int{3, 2, 2, 2}, datatype: 2, pixdim: [4]float64{1, 1, 1, 1}}
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(sp.file(sp.encode(ramp(8)...)))
	zero := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		w.Write(zero)
	}
	w.Close()
	c := &countingReader{r: bytes.NewReader(b.Bytes())}
	raw, err := inflate(c, 352, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 8 || c.n > 64<<10 {
		t.Fatalf("read %d compressed bytes of %d for 8 voxels", c.n, b.Len())
	}
	s := readBytes(t, "bomb.nii.gz", b.Bytes())
	if s.Width*s.Height*s.Frames != 8 {
		t.Fatalf("%dx%dx%d", s.Width, s.Height, s.Frames)
	}
}

func TestSniff(t *testing.T) {
	n1 := spec{version: 1, dims: []int{3, 1, 1, 1}, datatype: 2}.header()
	n1be := spec{version: 1, big: true, dims: []int{3, 1, 1, 1}, datatype: 2}.header()
	n2 := spec{version: 2, dims: []int{3, 1, 1, 1}, datatype: 2}.header()
	ana := spec{version: 0, dims: []int{3, 1, 1, 1}, datatype: 2}.header()
	for _, tc := range []struct {
		name string
		head []byte
		path string
		want bool
	}{
		{"nifti-1", n1, "x", true},
		{"nifti-1 big-endian", n1be, "x.bin", true},
		{"nifti-2", n2[:16], "x", true},
		{"gz nii", []byte{0x1f, 0x8b, 8}, "a.NII.GZ", true},
		{"gz other", []byte{0x1f, 0x8b, 8}, "a.tar.gz", false},
		{"gz img without hdr", []byte{0x1f, 0x8b, 8}, "/nonexistent/a.img.gz", false},
		{"analyze hdr", ana, "a.hdr", true},
		{"analyze not named hdr", ana, "a.bin", false},
		{"radiance hdr", []byte("#?RADIANCE\n"), "sky.hdr", false},
		{"png", []byte("\x89PNG\r\n\x1a\n"), "a.png", false},
		{"short", []byte{0x5c, 1}, "a", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff(tc.head, tc.path); got != tc.want {
				t.Fatalf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}
