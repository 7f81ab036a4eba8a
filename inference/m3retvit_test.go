package inference

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/m3ret/viewer/assets"
)

// TestShippedEncoderMatchesPyTorch runs the shipped encoder (assets/models/
// m3ret-vit.onnx) under ONNX Runtime on the deterministic input the export
// script fed the PyTorch model (inference/train/export.py, lcg_input), and
// compares with the embeddings PyTorch returned, stored at export time in
// inference/train/testdata/m3ret-vit.reference.json.
func TestShippedEncoderMatchesPyTorch(t *testing.T) {
	startORT(t)
	data, err := os.ReadFile("train/testdata/m3ret-vit.reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		ModelSHA256 string      `json:"model_sha256"`
		Shape       []int       `json:"shape"`
		Embedding   [][]float64 `json:"embedding"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	man, model, err := assets.Model("m3ret-vit")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Load(man, model, Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if enc.Manifest().SHA256 != ref.ModelSHA256 {
		t.Fatalf("reference is for model %.12s, shipped model is %.12s", ref.ModelSHA256, enc.Manifest().SHA256)
	}
	n := 1
	for _, d := range ref.Shape {
		n *= d
	}
	x := make([]float32, n)
	for i := range x {
		v := (uint64(1664525)*uint64(i) + 1013904223) % (1 << 32)
		x[i] = float32(float64(v) / float64(1<<32))
	}
	got, err := enc.runTensor(x, ref.Shape[0])
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, row := range ref.Embedding {
		if len(got[i]) != len(row) {
			t.Fatalf("dim %d, reference %d", len(got[i]), len(row))
		}
		for j, w := range row {
			worst = math.Max(worst, math.Abs(float64(got[i][j])-w))
		}
	}
	if worst > 1e-4 {
		t.Fatalf("ONNX Runtime and PyTorch differ by %.3g", worst)
	}
	t.Logf("max |ORT - PyTorch| = %.2g over %d x %d", worst, len(got), len(got[0]))
}
