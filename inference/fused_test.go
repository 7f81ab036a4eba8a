package inference

import (
	"math"
	"testing"
)

// TestFusedEncoderIsTheConcatenation builds a fused model with
// inference/fuse/fuse.py (w = 0.7, 12 x 12 pixel channel) and checks, on a
// fixed input of two items, that its output is
// concat(sqrt(w) m3ret-vit(x), sqrt(1-w) pix(x)), pix computed here in Go
// (mean over T, 8 x 8 average pool, centred, L2), and that the cosine of
// the two items is w cos(learned) + (1-w) cos(pixels).
func TestFusedEncoderIsTheConcatenation(t *testing.T) {
	const w = 0.7
	fused := buildFused(t, "fused")
	plain := loadPlain(t)
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
