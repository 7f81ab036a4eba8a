package inference

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

func testManifest(c, t, h, w int) *Manifest {
	m := &Manifest{Name: "t", Version: "1", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	m.Input.Name, m.Input.Shape = "x", []int64{-1, int64(c), int64(t), int64(h), int64(w)}
	m.Output.Name, m.Output.Dim = "y", 4
	m.Normalisation = map[string]Normalisation{"CT": {Method: "window", Center: 50, Width: 100}, "default": {Method: "percentile", Low: 0, High: 100}}
	m.TimeMapping = map[string]string{"image2d": "repeat", "volume": "resample", "video": "even"}
	return m
}

func TestResampler(t *testing.T) {
	tests := []struct {
		name     string
		src      []float32
		n        int
		want     []float32
		tolerant bool
	}{
		{"area halves", []float32{0, 2, 4, 6}, 2, []float32{1, 5}, false},
		{"identity", []float32{3, 1, 4}, 3, []float32{3, 1, 4}, false},
		{"linear doubles", []float32{0, 4}, 4, []float32{0, 1, 3, 4}, false},
		{"area thirds", []float32{0, 0, 0, 3, 3, 3}, 2, []float32{0, 3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, tc.n)
			resize(tc.src, len(tc.src), 1, resampler(len(tc.src), tc.n), resampler(1, 1), dst)
			for i := range dst {
				if math.Abs(float64(dst[i]-tc.want[i])) > 1e-5 {
					t.Fatalf("got %v want %v", dst, tc.want)
				}
			}
		})
	}
}

func TestPreprocess(t *testing.T) {
	// A synthetic 2×2 CT image with 2 slices: slice 0 all 0 HU, slice 1 all 100 HU.
	vol := &media.Sample{Kind: media.Volume, Width: 2, Height: 2, Frames: 2, Channels: 1,
		Data: []float32{0, 0, 0, 0, 100, 100, 100, 100}, Meta: media.Meta{Modality: "CT"}}
	got := Preprocess(vol, testManifest(1, 1, 2, 2))
	for _, v := range got { // T=1 resamples half-way: 50 HU, window 50/100 -> 0.5
		if math.Abs(float64(v)-0.5) > 1e-6 {
			t.Fatalf("volume: got %v", got)
		}
	}
	img := &media.Sample{Kind: media.Image2D, Width: 2, Height: 1, Frames: 1, Channels: 3,
		Data: []float32{255, 0, 0, 0, 0, 255}, Meta: media.Meta{Modality: "OT"}}
	got = Preprocess(img, testManifest(1, 2, 1, 2)) // luma, repeated over T=2, min-max
	want := []float32{1, 0, 1, 0}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("rgb->grey: got %v want %v", got, want)
		}
	}
	// A 2×1 video of 4 frames: frame i is [i, 10]. T=2 samples the frame
	// centres 0.5 and 2.5, rounded away from zero: frames 1 and 3, then
	// min-max over what was sampled (1..10) gives [0, 1, 2/9, 1]. Frames 0
	// and 2 would give [0, 1, 0.2, 1], 0 and 3 [0, 1, 0.3, 1], 1 and 2
	// [0, 1, 1/9, 1]: the test fails when the wrong frames are taken.
	vid := &media.Sample{Kind: media.Video, Width: 2, Height: 1, Frames: 4, Channels: 1,
		Data: []float32{0, 10, 1, 10, 2, 10, 3, 10}}
	got = Preprocess(vid, testManifest(1, 2, 1, 2))
	want = []float32{0, 1, 2.0 / 9, 1}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("video frames sampled: got %v want %v (frames 1 and 3)", got, want)
		}
	}
}

// TestPreprocessMatchesNumpy checks Preprocess against an independent numpy
// implementation of the same contract (testdata/make_reference.py, run with
// Debian's python3-numpy), on synthetic seeded inputs.
func TestPreprocessMatchesNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/preprocess_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Kind, Modality string
		Shape                [4]int // frames, h, w, channels
		Model                [4]int64
		TimeMode             string `json:"time_mode"`
		Normalisation        Normalisation
		Input, Want          []float64
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			s := &media.Sample{Kind: media.Kind(tc.Kind), Frames: tc.Shape[0], Height: tc.Shape[1], Width: tc.Shape[2],
				Channels: tc.Shape[3], Meta: media.Meta{Modality: tc.Modality}, Data: make([]float32, len(tc.Input))}
			for i, v := range tc.Input {
				s.Data[i] = float32(v)
			}
			m := testManifest(int(tc.Model[0]), int(tc.Model[1]), int(tc.Model[2]), int(tc.Model[3]))
			m.Normalisation = map[string]Normalisation{tc.Modality: tc.Normalisation}
			m.TimeMapping = map[string]string{tc.Kind: tc.TimeMode}
			got := Preprocess(s, m)
			if len(got) != len(tc.Want) {
				t.Fatalf("%d values, want %d", len(got), len(tc.Want))
			}
			for i := range got {
				if math.Abs(float64(got[i])-tc.Want[i]) > 1e-4 {
					t.Fatalf("value %d: got %v, numpy %v", i, got[i], tc.Want[i])
				}
			}
		})
	}
}
