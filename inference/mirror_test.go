package inference

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/assets"
)

// TestMirroredFusedEncoder builds fuse.py models with --mirror (w = 0.7)
// and checks, on a fixed input of two items, that the output is
// concat(sqrt(w) L2(m3ret-vit(x) + m3ret-vit(flip(x))), sqrt(1-w) pix(x)),
// flip reversing the last axis; that its learned part is the same for x
// and flip(x), which m3ret-vit's own output is not; and that with
// --mirror-pixels too the whole embedding of x and of flip(x) is the same,
// the pixel part being pix(x + flip(x)).
func TestMirroredFusedEncoder(t *testing.T) {
	const w = 0.7
	mirror := buildFused(t, "mirror", "--mirror")
	both := buildFused(t, "both", "--mirror", "--mirror-pixels")
	plain := loadPlain(t)
	x := fusedTestInput()
	fx := flipW(x)
	learned, learnedFlip := runOrFatal(t, plain, x), runOrFatal(t, plain, fx)
	if d := maxDiff32(learned[0], learnedFlip[0]); d < 1e-3 {
		t.Fatalf("m3ret-vit(x) and m3ret-vit(flip(x)) differ by %.3g only: the input does not test mirroring", d)
	}
	got, gotFlip := runOrFatal(t, mirror, x), runOrFatal(t, mirror, fx)
	for b := range got {
		want := l2Sum(learned[b], learnedFlip[b], math.Sqrt(w))
		want = append(want, scaled(pixelChannel(x[b*8*96*96:(b+1)*8*96*96]), math.Sqrt(1-w))...)
		if d := maxDiff(got[b], want); d > 1e-5 {
			t.Fatalf("item %d: --mirror output differs from the formula by %.3g", b, d)
		}
		if d := maxDiff32(got[b][:192], gotFlip[b][:192]); d > 1e-5 {
			t.Fatalf("item %d: --mirror learned part of x and flip(x) differ by %.3g", b, d)
		}
	}
	checkMirrorInvariant(t, both, x, fx, w)
}

// checkMirrorInvariant checks that e (--mirror --mirror-pixels) gives x and
// fx = flip(x) the same embedding, with pixel part sqrt(1-w) pix(x + fx).
func checkMirrorInvariant(t *testing.T, e *Encoder, x, fx []float32, w float64) {
	t.Helper()
	got, gotFlip := runOrFatal(t, e, x), runOrFatal(t, e, fx)
	sum := make([]float32, len(x))
	for i := range x {
		sum[i] = x[i] + fx[i]
	}
	for b := range got {
		if d := maxDiff32(got[b], gotFlip[b]); d > 1e-5 {
			t.Fatalf("item %d: --mirror --mirror-pixels embeddings of x and flip(x) differ by %.3g", b, d)
		}
		pix := scaled(pixelChannel(sum[b*8*96*96:(b+1)*8*96*96]), math.Sqrt(1-w))
		if d := maxDiff(got[b][192:], pix); d > 1e-5 {
			t.Fatalf("item %d: --mirror-pixels pixel part differs from pix(x + flip(x)) by %.3g", b, d)
		}
	}
}

// buildFused runs fuse.py --w 0.7 with args and loads the result, closed
// when the test ends; it skips without python3-onnx unless
// M3RET_REQUIRE_ORT=1 (make test).
func buildFused(t *testing.T, name string, args ...string) *Encoder {
	t.Helper()
	startORT(t)
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx, numpy").Run(); err != nil {
		if os.Getenv("M3RET_REQUIRE_ORT") == "1" { // make test installs them (.ci/deps.sh)
			t.Fatal("no /usr/bin/python3 with python3-onnx and python3-numpy: run .ci/deps.sh")
		}
		t.Skip("no /usr/bin/python3 with python3-onnx and python3-numpy (.ci/deps.sh installs them)")
	}
	dir := t.TempDir()
	cmd := append([]string{"fuse/fuse.py", "--w", "0.7", "--out", dir, "--name", name}, args...)
	if out, err := exec.Command(py, cmd...).CombinedOutput(); err != nil {
		t.Fatalf("fuse.py: %v\n%s", err, out)
	}
	e, err := LoadFile(filepath.Join(dir, name+".json"), Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func loadPlain(t *testing.T) *Encoder {
	t.Helper()
	man, model, err := assets.Model("m3ret-vit")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Load(man, model, Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// flipW reverses the last axis of [.., 96] items.
func flipW(x []float32) []float32 {
	f := make([]float32, len(x))
	for i := range x {
		f[i] = x[i-i%96+95-i%96]
	}
	return f
}

// l2Sum is s (a + b) / |a + b|.
func l2Sum(a, b []float32, s float64) []float64 {
	v := make([]float64, len(a))
	for i := range a {
		v[i] = float64(a[i]) + float64(b[i])
	}
	return scaled(v, s/math.Sqrt(dot64(v, v)))
}

func scaled(v []float64, s float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * s
	}
	return out
}

func maxDiff(a []float32, b []float64) float64 {
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-b[i]))
	}
	return worst
}

func maxDiff32(a, b []float32) float64 {
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}
