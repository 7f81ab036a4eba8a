package inference

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library/media"
)

// startORT starts ONNX Runtime or skips (fails under M3RET_REQUIRE_ORT=1,
// which `make test` sets after fetching it).
func startORT(t *testing.T) Runtime {
	t.Helper()
	rt, err := Start("")
	if err != nil {
		if os.Getenv("M3RET_REQUIRE_ORT") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return rt
}

func synthetic(seed float32) media.Sample {
	s := media.Sample{Kind: media.Image2D, Width: 100, Height: 80, Frames: 1, Channels: 1, Meta: media.Meta{Modality: "MR"}}
	s.Data = make([]float32, 100*80)
	for i := range s.Data {
		s.Data[i] = float32(math.Sin(float64(seed)*float64(i%100)/10) * float64(i/100))
	}
	return s
}

func TestBaselineEmbeds(t *testing.T) {
	rt := startORT(t)
	if !versionAtLeast(rt.Version, MinORT) {
		t.Fatalf("ort %s", rt.Version)
	}
	man, model, err := assets.Model("baseline")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Load(man, model, Options{Provider: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if enc.Provider() != "cpu" && os.Getenv("M3RET_EXPECT_GPU") == "" {
		t.Logf("provider %s", enc.Provider())
	}
	samples := []media.Sample{synthetic(1), synthetic(1), synthetic(3)}
	vecs, err := enc.Embed(context.Background(), samples)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 || len(vecs[0]) != enc.Dim() {
		t.Fatalf("%d vectors of %d", len(vecs), len(vecs[0]))
	}
	dot := func(a, b []float32) (s float64) {
		for i := range a {
			s += float64(a[i] * b[i])
		}
		return s
	}
	if n := dot(vecs[0], vecs[0]); math.Abs(n-1) > 1e-4 {
		t.Fatalf("norm² %v", n)
	}
	if d := dot(vecs[0], vecs[1]); d < 0.9999 {
		t.Fatalf("same image, cosine %v", d)
	}
	if d := dot(vecs[0], vecs[2]); d > 0.99 {
		t.Fatalf("different images, cosine %v", d)
	}
}

func TestForcedMissingProviderFallsBack(t *testing.T) {
	startORT(t)
	man, model, _ := assets.Model("baseline")
	enc, err := Load(man, model, Options{Provider: "cuda"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if enc.Provider() == "cuda" {
		t.Skip("this machine has CUDA")
	}
	if enc.Provider() != "cpu" || enc.ProviderNotes()["cuda"] == "" {
		t.Fatalf("provider %s notes %v", enc.Provider(), enc.ProviderNotes())
	}
}

func TestLyingManifestRefused(t *testing.T) {
	startORT(t)
	man, model, _ := assets.Model("baseline")
	var m map[string]any
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"wrong sha256", func(m map[string]any) {
			m["sha256"] = "00000000000000000000000000000000000000000000000000000000000000ff"
		}},
		{"wrong input name", func(m map[string]any) { m["input"].(map[string]any)["name"] = "image" }},
		{"wrong input size", func(m map[string]any) { m["input"].(map[string]any)["shape"] = []int{-1, 1, 1, 96, 96} }},
		{"wrong output dim", func(m map[string]any) { m["output"].(map[string]any)["dim"] = 128 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c map[string]any
			_ = json.Unmarshal(man, &c)
			tc.edit(c)
			bad, _ := json.Marshal(c)
			if _, err := Load(bad, model, Options{}); !errors.Is(err, ErrManifest) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestVersionCheck(t *testing.T) {
	tests := []struct {
		have string
		ok   bool
	}{{"1.24.0", true}, {"1.24.3", true}, {"1.30.0", true}, {"2.0.0", true}, {"1.23.2", false}, {"1.9.0", false}, {"1", false}}
	for _, tc := range tests {
		if got := versionAtLeast(tc.have, MinORT); got != tc.ok {
			t.Errorf("versionAtLeast(%q, %q) = %v", tc.have, MinORT, got)
		}
	}
	rt := startORT(t)
	if v := libraryVersion(rt.Path); v != "" && v != rt.Version { // "" on Windows
		t.Fatalf("probed version %q, runtime says %q", v, rt.Version)
	}
}
