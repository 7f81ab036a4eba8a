package inference

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// lcgInput is the deterministic input of the export scripts (lcg_input in
// inference/export/export.py and inference/train/export.py).
func lcgInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		v := (uint64(1664525)*uint64(i) + 1013904223) % (1 << 32)
		x[i] = float32(float64(v) / float64(1<<32))
	}
	return x
}

// TestExportedModel checks models written by inference/export/export.py,
// named by $M3RET_EXPORTED_MODEL (manifest paths, separated by ":"; the
// test skips without it: inference/export/test_exporters.sh sets it):
// the model loads against its manifest, ONNX Runtime agrees with the
// PyTorch output the exporter stored beside it (cosine >= 0.9999 per
// row), and with the manifest's averaging a volume embeds as the
// normalised mean of its slices embedded as 2D images.
func TestExportedModel(t *testing.T) {
	paths := os.Getenv("M3RET_EXPORTED_MODEL")
	if paths == "" {
		t.Skip("M3RET_EXPORTED_MODEL not set (inference/export/test_exporters.sh sets it)")
	}
	startORT(t)
	for _, path := range strings.Split(paths, ":") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			enc, err := LoadFile(path, Options{Provider: "cpu"})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			m := enc.Manifest()
			if m.T() != 1 || m.C() != 3 || m.AverageFrames["volume"] < 2 || m.AverageFrames["video"] < 2 {
				t.Fatalf("input %v, average_frames %v: want a 3-channel single-frame model averaging volumes and videos",
					m.Input.Shape, m.AverageFrames)
			}
			compareReference(t, enc, strings.TrimSuffix(path, ".json")+".reference.json")
			checkVolumeAverage(t, enc)
		})
	}
}

func compareReference(t *testing.T, enc *Encoder, path string) {
	data, err := os.ReadFile(path)
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
	if ref.ModelSHA256 != enc.Manifest().SHA256 {
		t.Fatalf("reference is for model %.12s, the manifest's is %.12s", ref.ModelSHA256, enc.Manifest().SHA256)
	}
	n := 1
	for _, d := range ref.Shape {
		n *= d
	}
	got, err := enc.runTensor(lcgInput(n), ref.Shape[0])
	if err != nil {
		t.Fatal(err)
	}
	worst, cosMin := 0.0, 1.0
	for i, row := range ref.Embedding {
		var dot, nr float64
		for j, w := range row {
			worst = math.Max(worst, math.Abs(float64(got[i][j])-w))
			dot += float64(got[i][j]) * w
			nr += w * w
		}
		cosMin = math.Min(cosMin, dot/math.Sqrt(nr))
	}
	if cosMin < 0.9999 {
		t.Fatalf("ONNX Runtime and PyTorch: cosine %.6f (max |diff| %.3g)", cosMin, worst)
	}
	t.Logf("ONNX Runtime vs PyTorch: cosine >= %.7f, max |diff| %.2g over %d x %d", cosMin, worst, len(got), len(got[0]))
}

// checkVolumeAverage embeds a 3-slice volume and its slices as 2D images.
func checkVolumeAverage(t *testing.T, enc *Encoder) {
	vol := stack(media.Volume, 3)
	batch := []media.Sample{vol, slice(vol, 0), slice(vol, 1), slice(vol, 2)}
	got, err := enc.Embed(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, enc.Dim())
	for _, v := range got[1:] {
		for j := range v {
			want[j] += v[j]
		}
	}
	Normalize(want)
	if c := dot32(got[0], want); c < 0.99999 {
		t.Fatalf("volume vs mean of its slices: cosine %.7f", c)
	}
	if c := dot32(got[1], got[2]); c > 0.99999 {
		t.Fatalf("two different slices embed alike (cosine %.7f): the check cannot tell them apart", c)
	}
}
