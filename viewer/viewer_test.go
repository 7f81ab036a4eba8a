package viewer

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/m3ret/viewer/library/media"
)

// stack makes a synthetic volume whose frame t is filled with t.
func stack(frames int) *media.Sample {
	s := &media.Sample{Kind: media.Volume, Width: 8, Height: 8, Frames: frames, Channels: 1, Data: make([]float32, 64*frames)}
	for i := range s.Data {
		s.Data[i] = float32(i / 64)
	}
	return s
}

func TestImageViewFrames(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	w := test.NewWindow(v)
	defer w.Close()
	v.SetSample(stack(9))
	if v.Frame() != 4 {
		t.Fatalf("starts at frame %d, want the middle (4)", v.Frame())
	}
	tests := []struct {
		name string
		dy   float32
		want int
	}{{"wheel down", -1, 5}, {"wheel up", 1, 4}, {"wheel up again", 1, 3}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: tc.dy}})
			if v.Frame() != tc.want {
				t.Fatalf("frame %d, want %d", v.Frame(), tc.want)
			}
		})
	}
	v.SetFrame(100)
	if v.Frame() != 8 {
		t.Fatalf("frame %d after clamping", v.Frame())
	}
	if v.img.Image == nil {
		t.Fatal("nothing rendered")
	}
}

func TestCompareViewSyncsByRelativePosition(t *testing.T) {
	test.NewTempApp(t)
	c := NewCompareView()
	w := test.NewWindow(c)
	defer w.Close()
	c.SetPair(stack(11), "query", stack(21), "result", 0.9)
	c.Query.SetFrame(10) // last slice of the query -> last slice of the result
	if c.Result.Frame() != 20 {
		t.Fatalf("result at %d, want 20", c.Result.Frame())
	}
	c.Result.SetFrame(0)
	if c.Query.Frame() != 0 {
		t.Fatalf("query at %d, want 0", c.Query.Frame())
	}
	_, title := c.Titles()
	if title != "Similarity 0.900 — result" {
		t.Fatalf("title %q", title)
	}
}

func TestThumbGridSelect(t *testing.T) {
	test.NewTempApp(t)
	g := NewThumbGrid()
	w := test.NewWindow(g)
	w.Resize(fyne.NewSize(600, 400))
	defer w.Close()
	var chosen string
	g.OnSelected = func(id string) { chosen = id }
	g.SetTiles([]Tile{{ID: "a", Title: "MR"}, {ID: "b", Title: "CT"}})
	g.Select(1)
	if chosen != "b" {
		t.Fatalf("chose %q", chosen)
	}
}
