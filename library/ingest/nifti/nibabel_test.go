package nifti

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// reference is one file's entry in testdata/nibabel_reference.json, written
// by testdata/nibabel_reference.py with nibabel.
type reference struct {
	Shape          []int       `json:"shape"`
	Affine         [][]float64 `json:"affine"`
	Volumes        int         `json:"volumes"`
	First          stats       `json:"first"`
	Last           *stats      `json:"last"`
	DisplaySize    [3]int      `json:"display_size"`
	DisplaySpacing [3]float64  `json:"display_spacing"`
	DisplaySHA     string      `json:"display_sha256"`
	MiddleSlice    int         `json:"middle_slice"`
	MiddleSHA      string      `json:"middle_slice_sha256"`
}

type stats struct{ Min, Max, Mean float64 }

func loadReference(t *testing.T) map[string]reference {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "nibabel_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Files map[string]reference `json:"files"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Files
}

func statsOf(v []float32) stats {
	s := stats{Min: math.Inf(1), Max: math.Inf(-1)}
	sum := 0.0
	for _, x := range v {
		s.Min, s.Max = math.Min(s.Min, float64(x)), math.Max(s.Max, float64(x))
		sum += float64(x)
	}
	s.Mean = sum / float64(len(v))
	return s
}

func sha(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// The real NIfTI files of nibabel's and dipy's test data and MRIcron's Colin27
// template, checked against what nibabel reads from them.
func TestAgainstNibabel(t *testing.T) {
	root := samples.Dir(t, "nifti")
	for name, ref := range loadReference(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(filepath.Dir(root), filepath.FromSlash(name))
			checkAffine(t, path, ref)
			s, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			checkDisplay(t, s, ref)
			if ref.Last != nil {
				last, err := ReadVolume(path, ref.Volumes-1)
				if err != nil {
					t.Fatal(err)
				}
				checkStats(t, "last volume", last.Data, *ref.Last)
				if _, err := ReadVolume(path, ref.Volumes); err == nil {
					t.Error("no error for a volume past the end")
				}
			}
		})
	}
}

func checkAffine(t *testing.T, path string, ref reference) {
	t.Helper()
	h, err := readHeaderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= len(ref.Shape); i++ {
		if int(h.dim[i]) != ref.Shape[i-1] {
			t.Fatalf("dim %v, nibabel shape %v", h.dim, ref.Shape)
		}
	}
	a := h.affine()
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			if !near(a[i][j], ref.Affine[i][j], 1e-5) {
				t.Fatalf("affine %v, nibabel %v", a, ref.Affine)
			}
		}
	}
}

func checkDisplay(t *testing.T, s *media.Sample, ref reference) {
	t.Helper()
	if got := [3]int{s.Width, s.Height, s.Frames}; got != ref.DisplaySize {
		t.Fatalf("display size %v, want %v", got, ref.DisplaySize)
	}
	if s.Kind != media.Volume || s.Meta.Orientation != "LPS" || s.Meta.SourceFormat != "nifti" {
		t.Errorf("kind %s orientation %q format %q", s.Kind, s.Meta.Orientation, s.Meta.SourceFormat)
	}
	for k := range s.Spacing {
		if !near(s.Spacing[k], ref.DisplaySpacing[k], 1e-6) {
			t.Errorf("spacing %v, want %v", s.Spacing, ref.DisplaySpacing)
		}
	}
	if want := max(ref.Volumes, 1); max(s.Meta.Volumes, 1) != want {
		t.Errorf("volumes %d, want %d", s.Meta.Volumes, want)
	}
	checkStats(t, "first volume", s.Data, ref.First)
	if got := sha(s.Data); got != ref.DisplaySHA {
		t.Errorf("display volume sha256 %s, nibabel's canonical flipped %s", got, ref.DisplaySHA)
	}
	if got := sha(s.Frame(ref.MiddleSlice)); got != ref.MiddleSHA {
		t.Errorf("middle slice sha256 %s, want %s", got, ref.MiddleSHA)
	}
}

func checkStats(t *testing.T, what string, v []float32, want stats) {
	t.Helper()
	got := statsOf(v)
	if !near(got.Min, want.Min, 1e-6) || !near(got.Max, want.Max, 1e-6) || !near(got.Mean, want.Mean, 1e-6) {
		t.Errorf("%s: min/max/mean %v, nibabel %v", what, got, want)
	}
}

// Colin27 (MNI space, 1 mm): the middle axial slice must look axial: the
// head is longer front to back than it is wide, roughly symmetric about the
// midline (x = 90 in MNI voxels), and the frontal lobe is at the top (y
// small) of the radiological view.
func TestColin27Axial(t *testing.T) {
	path := filepath.Join(samples.Dir(t, "nifti"), "mricron", "ch2bet.nii.gz")
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Width != 181 || s.Height != 217 || s.Frames != 181 || s.Meta.Orientation != "LPS" {
		t.Fatalf("%dx%dx%d %s", s.Width, s.Height, s.Frames, s.Meta.Orientation)
	}
	// MNI z = 0 is voxel k = 71 (ch2's origin); the slice through it.
	f := s.Frame(71)
	x0, x1, y0, y1, cx, n := s.Width, -1, s.Height, -1, 0.0, 0.0
	for y := 0; y < s.Height; y++ {
		for x := 0; x < s.Width; x++ {
			if f[y*s.Width+x] > 0 {
				x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
				cx, n = cx+float64(x), n+1
			}
		}
	}
	width, length := x1-x0+1, y1-y0+1
	t.Logf("brain at z=0: %d mm wide, %d mm long, centre x %.1f", width, length, cx/n)
	if length <= width {
		t.Errorf("brain %d wide and %d long: not an axial slice", width, length)
	}
	if math.Abs(cx/n-90) > 4 {
		t.Errorf("brain centre at x=%.1f, midline is 90", cx/n)
	}
	// MNI y = 0 (the anterior commissure) is row 217-1-125 = 91 once y runs
	// to the back; more brain lies behind it than in front.
	if front, back := y0, y1; 91-front >= back-91 {
		t.Errorf("brain rows %d..%d: frontal pole should be nearer the AC than the occipital", front, back)
	}
}
