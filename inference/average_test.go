package inference

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library/media"
)

// editManifest returns the embedded model's manifest with edit applied.
func editManifest(t *testing.T, model string, edit func(m map[string]any)) []byte {
	t.Helper()
	man, _, err := assets.Model(model)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestManifestTimeChecks(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		reason string // "" when the manifest is valid
	}{
		{"shipped as is", func(map[string]any) {}, ""},
		{"no time mapping", func(m map[string]any) { delete(m, "time_mapping") }, ""},
		{"averaged volumes and videos", func(m map[string]any) {
			m["time_mapping"] = map[string]string{"image2d": "repeat", "volume": "central", "video": "even"}
			m["average_frames"] = map[string]int{"volume": 8, "video": 64}
		}, ""},
		{"unknown kind", func(m map[string]any) { m["time_mapping"] = map[string]string{"volumes": "even"} }, `unknown kind "volumes"`},
		{"unknown mode", func(m map[string]any) { m["time_mapping"] = map[string]string{"video": "random"} }, `video "random"`},
		{"pad for a volume", func(m map[string]any) { m["time_mapping"] = map[string]string{"volume": "pad"} }, `volume "pad"`},
		{"average 2D images", func(m map[string]any) { m["average_frames"] = map[string]int{"image2d": 4} }, "a 2D image has one frame"},
		{"average zero", func(m map[string]any) { m["average_frames"] = map[string]int{"volume": 0} }, "want 1 to 64"},
		{"average too many", func(m map[string]any) { m["average_frames"] = map[string]int{"video": 65} }, "want 1 to 64"},
		{"average unknown kind", func(m map[string]any) { m["average_frames"] = map[string]int{"series": 2} }, `unknown kind "series"`},
	}
	for _, model := range []string{"baseline", "m3ret-vit"} {
		for _, tc := range tests {
			t.Run(model+"/"+tc.name, func(t *testing.T) {
				_, err := ParseManifest(editManifest(t, model, tc.edit))
				switch {
				case tc.reason == "" && err != nil:
					t.Fatalf("refused: %v", err)
				case tc.reason != "" && (!errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tc.reason)):
					t.Fatalf("got %v, want ErrManifest saying %q", err, tc.reason)
				}
			})
		}
	}
}

// stack is a grey sample of frames 24×20 whose frame f is a pattern of its
// own (so each frame embeds differently).
func stack(kind media.Kind, frames int) media.Sample {
	s := media.Sample{Kind: kind, Width: 24, Height: 20, Frames: frames, Channels: 1, Meta: media.Meta{Modality: "MR"}}
	s.Data = make([]float32, 24*20*frames)
	for i := range s.Data {
		f, p := i/(24*20), i%(24*20)
		s.Data[i] = float32(math.Sin(float64(p%24)*0.3*float64(f+1)) + math.Cos(float64(p/24)*0.2*float64(3-f)))
	}
	return s
}

// slice is frame f of s as a 2D image.
func slice(s media.Sample, f int) media.Sample {
	n := s.FrameLen()
	return media.Sample{Kind: media.Image2D, Width: s.Width, Height: s.Height, Frames: 1, Channels: s.Channels,
		Data: s.Data[f*n : (f+1)*n], Meta: s.Meta}
}

func TestWindowsAndCentralMapping(t *testing.T) {
	m := testManifest(1, 1, 4, 4)
	m.TimeMapping = map[string]string{"volume": "central", "video": "even"}
	m.AverageFrames = map[string]int{"volume": 4, "video": 4}
	tests := []struct {
		name    string
		s       media.Sample
		windows int
		frames  []int // the frame each window takes
	}{
		{"2D image", stack(media.Image2D, 1), 1, []int{0}},
		{"short volume: every slice once", stack(media.Volume, 3), 3, []int{0, 1, 2}},
		{"volume: middle half", stack(media.Volume, 20), 4, []int{6, 8, 11, 13}},
		{"volume as wide as the windows", stack(media.Volume, 6), 4, []int{1, 2, 3, 4}},
		{"video: evenly over all", stack(media.Video, 20), 4, []int{2, 7, 12, 17}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := Windows(&tc.s, m)
			if n != tc.windows {
				t.Fatalf("%d windows, want %d", n, tc.windows)
			}
			for w, p := range timeMapping(&tc.s, m, n) {
				if p.frame != tc.frames[w] {
					t.Fatalf("window %d takes frame %d, want %d", w, p.frame, tc.frames[w])
				}
			}
		})
	}
}

// TestWindowsOfSeveralFrames: with T = 2 and 2 inputs, "even" picks 4
// slices of 8 (1, 3, 5, 7) and input w takes the w-th pair.
func TestWindowsOfSeveralFrames(t *testing.T) {
	m := testManifest(1, 2, 1, 1)
	m.TimeMapping = map[string]string{"volume": "even"}
	m.AverageFrames = map[string]int{"volume": 2}
	vol := &media.Sample{Kind: media.Volume, Width: 1, Height: 1, Frames: 8, Channels: 1, Meta: media.Meta{Modality: "CT"},
		Data: []float32{0, 10, 20, 30, 40, 50, 60, 70}} // CT window 50/100: slice s -> s/10
	if n := Windows(vol, m); n != 2 {
		t.Fatalf("%d windows, want 2", n)
	}
	for w, want := range [][]float32{{0.1, 0.3}, {0.5, 0.7}} {
		got := PreprocessWindow(vol, m, w, 2)
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Fatalf("window %d: got %v, want %v", w, got, want)
			}
		}
	}
}

// TestAveragedVolumeIsMeanOfSlices embeds volumes and a video with a model
// of single frames (the baseline, T = 1) whose manifest averages them: each
// must equal the normalised mean of the embeddings of the frames the time
// mapping picks, embedded alone as 2D images; a 2D image in the same batch
// is embedded as it is alone.
func TestAveragedVolumeIsMeanOfSlices(t *testing.T) {
	startORT(t)
	_, model, _ := assets.Model("baseline")
	man := editManifest(t, "baseline", func(m map[string]any) {
		m["time_mapping"] = map[string]string{"image2d": "repeat", "volume": "central", "video": "even"}
		m["average_frames"] = map[string]int{"volume": 4, "video": 4}
		m["batch_size"] = 3 // windows of one item span ORT calls
	})
	enc, err := Load(man, model, Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	items := []struct {
		s      media.Sample
		frames []int
	}{
		// 5 slices, 4 windows, central: the span is max(5/2, 4) = 4 slices,
		// centred (0.5 to 4.5): positions 0.5 + t, rounded: 1, 2, 3, 4.
		{stack(media.Volume, 5), []int{1, 2, 3, 4}},
		{stack(media.Volume, 20), []int{6, 8, 11, 13}},
		{stack(media.Video, 20), []int{2, 7, 12, 17}},
		{stack(media.Volume, 3), []int{0, 1, 2}},
		{stack(media.Image2D, 1), []int{0}},
	}
	batch := make([]media.Sample, len(items))
	for i := range items {
		batch[i] = items[i].s
	}
	got, err := enc.Embed(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		var slices []media.Sample
		for _, f := range it.frames {
			slices = append(slices, slice(it.s, f))
		}
		per, err := enc.Embed(context.Background(), slices)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, enc.Dim())
		for _, v := range per {
			for j := range v {
				want[j] += v[j] / float32(len(per))
			}
		}
		Normalize(want)
		worst := 0.0
		for j := range want {
			worst = math.Max(worst, math.Abs(float64(got[i][j]-want[j])))
		}
		if worst > 1e-5 {
			t.Errorf("%s of %d frames: differs from the mean of frames %v by %.3g", it.s.Kind, it.s.Frames, it.frames, worst)
		}
	}
	if d := dot32(got[0], got[1]); d > 0.9999 {
		t.Fatalf("two different volumes embed alike (cosine %v): the test cannot tell frames apart", d)
	}
}

func dot32(a, b []float32) (s float64) {
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
