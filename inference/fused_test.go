package inference

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/assets"
)

// TestFusedEncoderIsTheConcatenation builds a fused model with
// inference/fuse/fuse.py (w = 0.7, 12 x 12 pixel channel) and checks, on a
// fixed input of two items, that its output is
// concat(sqrt(w) m3ret-vit(x), sqrt(1-w) pix(x)), pix computed here in Go
// (mean over T, 8 x 8 average pool, centred, L2), and that the cosine of
// the two items is w cos(learned) + (1-w) cos(pixels).
func TestFusedEncoderIsTheConcatenation(t *testing.T) {
	startORT(t)
	const py, w = "/usr/bin/python3", 0.7
	if err := exec.Command(py, "-c", "import onnx, numpy").Run(); err != nil {
		if os.Getenv("M3RET_REQUIRE_ORT") == "1" { // make test installs them (.ci/deps.sh)
			t.Fatal("no /usr/bin/python3 with python3-onnx and python3-numpy: run .ci/deps.sh")
		}
		t.Skip("no /usr/bin/python3 with python3-onnx and python3-numpy (.ci/deps.sh installs them)")
	}
	dir := t.TempDir()
	out, err := exec.Command(py, "fuse/fuse.py", "--w", "0.7", "--out", dir, "--name", "fused").CombinedOutput()
	if err != nil {
		t.Fatalf("fuse.py: %v\n%s", err, out)
	}
	fused, err := LoadFile(filepath.Join(dir, "fused.json"), Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer fused.Close()
	man, model, err := assets.Model("m3ret-vit")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Load(man, model, Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	x := fusedTestInput()
	got := runOrFatal(t, fused, x)
	learned := runOrFatal(t, plain, x)
	if fused.Dim() != 192+144 || len(got[0]) != fused.Dim() {
		t.Fatalf("fused dim %d (manifest %d), want 336", len(got[0]), fused.Dim())
	}
	var pix [2][]float64
	worst := 0.0
	for b := range got {
		pix[b] = pixelChannel(x[b*8*96*96 : (b+1)*8*96*96])
		for j, v := range learned[b] {
			worst = math.Max(worst, math.Abs(float64(got[b][j])-math.Sqrt(w)*float64(v)))
		}
		for j, v := range pix[b] {
			worst = math.Max(worst, math.Abs(float64(got[b][192+j])-math.Sqrt(1-w)*v))
		}
	}
	if worst > 1e-5 {
		t.Fatalf("fused output differs from the concatenation by %.3g", worst)
	}
	cos := dot32(got[0], got[1])
	want := w*dot32(learned[0], learned[1]) + (1-w)*dot64(pix[0], pix[1])
	if math.Abs(cos-want) > 1e-5 {
		t.Fatalf("fused cosine %.6f, w cos(learned) + (1-w) cos(pixels) = %.6f", cos, want)
	}
}

// fusedTestInput is two [1, 8, 96, 96] items: seeded noise plus a smooth
// pattern that differs between them, so the pooled images are not flat.
func fusedTestInput() []float32 {
	x := make([]float32, 2*8*96*96)
	for i := range x {
		b, yx := i/(8*96*96), i%(96*96)
		v := (uint64(1664525)*uint64(i) + 1013904223) % (1 << 32)
		pattern := math.Sin(float64(b+1)*float64(yx/96)/9) * math.Cos(float64(yx%96)/(7+float64(b)*5))
		x[i] = float32(0.3*float64(v)/float64(1<<32) + 0.35*(1+pattern))
	}
	return x
}

// pixelChannel is fuse.py's pool channel for one item [1, 8, 96, 96].
func pixelChannel(x []float32) []float64 {
	p := make([]float64, 144)
	for i, v := range x {
		yx := i % (96 * 96)
		p[(yx/96/8)*12+(yx%96)/8] += float64(v) / (8 * 64)
	}
	mean := 0.0
	for _, v := range p {
		mean += v / 144
	}
	norm := 0.0
	for i := range p {
		p[i] -= mean
		norm += p[i] * p[i]
	}
	for i := range p {
		p[i] /= math.Sqrt(norm)
	}
	return p
}

func runOrFatal(t *testing.T, e *Encoder, x []float32) [][]float32 {
	t.Helper()
	out, err := e.runTensor(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dot64(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
