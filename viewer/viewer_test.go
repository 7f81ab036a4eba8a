package viewer

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
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

// shown puts o in a test window of the given size.
func shown(t *testing.T, o fyne.CanvasObject, w, h float32) fyne.Window {
	t.Helper()
	win := test.NewWindow(o)
	win.Resize(fyne.NewSize(w, h))
	t.Cleanup(win.Close)
	return win
}

func TestImageViewFrames(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 300, 300)
	v.SetSample(stack(9))
	if v.Frame() != 4 {
		t.Fatalf("starts at frame %d, want the middle (4)", v.Frame())
	}
	tests := []struct {
		name string
		do   func()
		want int
	}{
		{"wheel down", func() { v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -10}}) }, 5},
		{"wheel up", func() { v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: 10}}) }, 4},
		{"arrow up", func() { v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp}) }, 3},
		{"arrow down", func() { v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown}) }, 4},
		{"end", func() { v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd}) }, 8},
		{"home", func() { v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyHome}) }, 0},
		{"slider", func() { v.slider.SetValue(6) }, 6},
		{"clamped", func() { v.SetFrame(100) }, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.do()
			if v.Frame() != tc.want {
				t.Fatalf("frame %d, want %d", v.Frame(), tc.want)
			}
		})
	}
}

// ct is a small CT volume: value x+10y HU at (x, y), 5 slices.
func ct() *media.Sample {
	s := &media.Sample{Kind: media.Volume, Width: 20, Height: 10, Frames: 5, Channels: 1, Data: make([]float32, 200*5),
		Spacing: [3]float64{1, 1, 3}, Meta: media.Meta{Modality: "CT", Orientation: "LPS"}}
	for i := range s.Data {
		s.Data[i] = float32(i%20 + 10*(i/20%10))
	}
	return s
}

func TestImageViewWindowZoomPanReadout(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 400, 240)
	v.SetSample(ct())
	area := v.area()

	test.Type(v, "2") // mediastinum
	if w, _ := v.Window(); w != Mediastinum {
		t.Fatalf("key 2 gave %+v", w)
	}
	// Right-drag: Fyne reports it as mouse moves with the button held.
	v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonSecondary, PointEvent: fyne.PointEvent{Position: fyne.NewPos(10, 10)}})
	v.MouseMoved(&desktop.MouseEvent{Button: desktop.MouseButtonSecondary, PointEvent: fyne.PointEvent{Position: fyne.NewPos(30, 0)}})
	if w, _ := v.Window(); w.Width <= Mediastinum.Width || w.Center >= Mediastinum.Center {
		t.Fatalf("right-drag right and up gave %+v, want wider and lower", w)
	}
	v.MouseUp(&desktop.MouseEvent{})
	test.Type(v, "i")
	if _, inv := v.Window(); !inv {
		t.Fatal("i did not invert")
	}

	// Ctrl+wheel zooms about the cursor: the pixel under it stays.
	keyModifiers = func() fyne.KeyModifier { return fyne.KeyModifierControl }
	defer func() { keyModifiers = func() fyne.KeyModifier { return 0 } }()
	at := fyne.NewPos(area.Width/2+40, area.Height/2)
	before := v.ValueText(at)
	v.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: at}, Scrolled: fyne.Delta{DY: 30}})
	if v.Zoom() <= 1.2 || v.Frame() != 2 {
		t.Fatalf("zoom %.2f, frame %d after Ctrl+wheel", v.Zoom(), v.Frame())
	}
	if after := v.ValueText(at); after != before {
		t.Fatalf("pixel under the cursor moved: %q → %q", before, after)
	}
	// Middle-drag pans.
	v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonTertiary})
	v.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DX: 15, DY: -5}})
	v.DragEnd()
	if p := v.Pan(); p.X == 0 {
		t.Fatalf("pan %v after middle-drag", p)
	}
	test.Type(v, "f")
	if v.Zoom() != 1 || v.Pan() != (fyne.Position{}) {
		t.Fatal("f did not fit")
	}
	test.Type(v, "a") // 20 pixels across at 1:1
	if z := v.Zoom(); z < 0.04 || z > 0.06 {
		t.Fatalf("1:1 zoom %.3f, want 20 px / 400 px", z)
	}
	test.Type(v, "f")

	// The readout names the pixel, the slice and the HU.
	centre := fyne.NewPos(area.Width/2, area.Height/2)
	if got := v.ValueText(centre); got != "x 10  y 5  z 3 · 60 HU" {
		t.Fatalf("readout %q", got)
	}
	if got := [4]string{v.marks[0].Text, v.marks[1].Text, v.marks[2].Text, v.marks[3].Text}; got != [4]string{"A", "P", "R", "L"} {
		t.Fatalf("orientation letters %v", got)
	}
}

func TestRegionCrop(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 400, 240)
	v.SetSample(ct())
	var crop *media.Sample
	v.OnRegion = func(s *media.Sample) { crop = s }
	test.Type(v, "r")
	vp := v.viewport(v.area())
	x0, y0 := vp.toScreen(2.2, 1.2) // from pixel (2, 1) to (11, 8)
	x1, y1 := vp.toScreen(11.8, 8.8)
	start, end := fyne.NewPos(float32(x0), float32(y0)), fyne.NewPos(float32(x1), float32(y1))
	v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary, PointEvent: fyne.PointEvent{Position: start}})
	v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: end}, Dragged: fyne.Delta{DX: end.X - start.X, DY: end.Y - start.Y}})
	v.DragEnd()
	if crop == nil {
		t.Fatal("no region")
	}
	if crop.Width != 10 || crop.Height != 8 || crop.Kind != media.Image2D || crop.Data[0] != 2+10*1 {
		t.Fatalf("crop %dx%d %s first value %v", crop.Width, crop.Height, crop.Kind, crop.Data[0])
	}
	if err := crop.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestVolumeViewPlanesAndCrossReference(t *testing.T) {
	test.NewTempApp(t)
	vv := NewVolumeView()
	shown(t, vv, 900, 400)
	vv.SetSample(ct())
	names := []string{vv.Views[0].PlaneName(), vv.Views[1].PlaneName(), vv.Views[2].PlaneName()}
	if strings.Join(names, ",") != "Axial,Coronal,Sagittal" {
		t.Fatalf("planes %v", names)
	}
	if got := []int{vv.Views[0].Frames(), vv.Views[1].Frames(), vv.Views[2].Frames()}; got[0] != 5 || got[1] != 10 || got[2] != 20 {
		t.Fatalf("slice counts %v", got)
	}
	// Scrolling the axial plane moves the coronal and sagittal lines.
	vv.Views[0].SetFrame(1)
	if p := vv.Point(); p != [3]int{10, 5, 1} {
		t.Fatalf("point %v", p)
	}
	if vv.Views[1].crossY != 3 || vv.Views[2].crossY != 3 { // slice 1 of 5, head up
		t.Fatalf("axial line on coronal at row %d, sagittal %d", vv.Views[1].crossY, vv.Views[2].crossY)
	}
	// Clicking the coronal plane moves the other two through that point.
	vv.Views[1].OnPoint(4, 0) // top row: the last slice
	if p := vv.Point(); p != [3]int{4, 5, 4} || vv.Views[0].Frame() != 4 || vv.Views[2].Frame() != 4 {
		t.Fatalf("point %v, axial %d, sagittal %d", p, vv.Views[0].Frame(), vv.Views[2].Frame())
	}
	// The coronal reformat is 20 wide, 5 slices of 3 mm high: 15 mm.
	w, h, _ := vv.Views[1].pl.size()
	dx, dy := vv.Views[1].pl.spacing()
	if w != 20 || h != 5 || dx != 1 || dy != 3 {
		t.Fatalf("coronal %dx%d at %gx%g mm", w, h, dx, dy)
	}
	if r, d := vv.Views[1].pl.letters(); r != 'L' || d != 'I' {
		t.Fatalf("coronal letters %c %c", r, d)
	}
	// The window is shared by the three planes.
	test.Type(vv.Views[2], "4")
	if w, _ := vv.Views[0].Window(); w != Bone {
		t.Fatalf("axial window %+v after bone on the sagittal", w)
	}
}

func TestCineView(t *testing.T) {
	test.NewTempApp(t)
	c := NewCineView()
	shown(t, c, 400, 400)
	s := stack(6)
	s.Kind, s.FrameTime, s.Meta.SourceFrames = media.Video, 40, 12 // 25 fps, half the frames held
	c.SetSample(s)
	if c.View.Frame() != 0 || c.Rate() != 12.5 {
		t.Fatalf("frame %d rate %v", c.View.Frame(), c.Rate())
	}
	c.View.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft}) // loops back to the end
	if c.View.Frame() != 5 {
		t.Fatalf("step back from 0 gave %d", c.View.Frame())
	}
	c.SetLoop(false)
	c.tick()
	if c.View.Frame() != 5 || c.Playing() {
		t.Fatal("without loop the last frame should stay")
	}
	// The clock hands ticks to the UI goroutine (under the test driver: its
	// own goroutine), so what it shows is read through a channel.
	c.SetRate(60)
	c.SetLoop(true)
	reached := make(chan int, 1)
	c.View.OnFrame = func(f int) {
		if f == 2 {
			c.Pause()
			reached <- f
		}
	}
	c.Play()
	select {
	case <-reached:
	case <-time.After(5 * time.Second):
		t.Fatal("playing never reached frame 2")
	}
	if c.Playing() {
		t.Fatal("still playing after Pause")
	}
}

func TestCompareViewSyncsByRelativePosition(t *testing.T) {
	test.NewTempApp(t)
	c := NewCompareView()
	shown(t, c, 800, 600)
	c.SetPair(stack(11), "query", stack(21), "result", 0.9)
	c.Query.SetFrame(10) // last slice of the query -> last slice of the result
	if c.Result.Frame() != 20 {
		t.Fatalf("result at %d, want 20", c.Result.Frame())
	}
	c.Result.SetFrame(0)
	if c.Query.Frame() != 0 {
		t.Fatalf("query at %d, want 0", c.Query.Frame())
	}
	c.Result.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -10}}) // wheel on the result
	c.Result.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -10}})
	if c.Result.Frame() != 2 || c.Query.Frame() != 1 {
		t.Fatalf("after two wheel steps: result %d, query %d", c.Result.Frame(), c.Query.Frame())
	}
	_, title := c.Titles()
	if title != "Similarity 0.900 — result" {
		t.Fatalf("title %q", title)
	}
}

func TestCompareViewWindowLink(t *testing.T) {
	test.NewTempApp(t)
	c := NewCompareView()
	shown(t, c, 800, 600)
	q, r := ct(), ct()
	r.Meta.SeriesDescription = "other"
	c.SetPair(q, "q", r, "r", 0.5)
	if !c.Linked() {
		t.Fatal("two CTs should start linked")
	}
	test.Type(c.Query, "1")
	if w, _ := c.Result.Window(); w != Lung {
		t.Fatalf("linked result window %+v", w)
	}
	c.SetLinked(false)
	test.Type(c.Query, "4")
	if w, _ := c.Result.Window(); w != Lung {
		t.Fatalf("unlinked result window changed to %+v", w)
	}
	var diff []string
	for _, row := range c.Metadata() {
		if row.Differs {
			diff = append(diff, row.Field)
		}
	}
	if strings.Join(diff, ",") != "Description" {
		t.Fatalf("fields marked different: %v", diff)
	}
}

func TestCompareViewKeyboardStepping(t *testing.T) {
	test.NewTempApp(t)
	c := NewCompareView()
	win := shown(t, c, 800, 600)
	var steps []int
	c.OnStep = func(d int) { steps = append(steps, d) }
	c.SetPair(stack(3), "q", stack(3), "r", 0.5)
	win.Canvas().Focus(c.Result)
	for _, k := range []fyne.KeyName{fyne.KeyRight, fyne.KeyRight, fyne.KeyLeft, fyne.KeyDown} {
		win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: k})
	}
	if len(steps) != 3 || steps[0] != 1 || steps[2] != -1 {
		t.Fatalf("steps %v", steps)
	}
	if c.Result.Frame() != 2 {
		t.Fatalf("↓ should still scroll: result frame %d", c.Result.Frame())
	}
	c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft}) // the window passes keys when nothing has focus
	if len(steps) != 4 {
		t.Fatalf("steps %v", steps)
	}
}

func TestThumbGridSelectAndBadges(t *testing.T) {
	test.NewTempApp(t)
	g := NewThumbGrid()
	shown(t, g, 600, 400)
	var chosen string
	g.OnSelected = func(id string) { chosen = id }
	g.SetTiles([]Tile{{ID: "a", Title: "MR", Badges: []string{"MR", "volume"}}, {ID: "b", Title: "CT"}})
	g.Select(1)
	if chosen != "b" {
		t.Fatalf("chose %q", chosen)
	}
	var texts []string
	walkObjects(g, func(o fyne.CanvasObject) {
		if c, ok := o.(*fyne.Container); ok && c.Visible() {
			if _, ok := c.Layout.(badgeLayout); ok {
				texts = append(texts, c.Objects[1].(*fyne.Container).Objects[0].(*canvas.Text).Text)
			}
		}
	})
	if strings.Join(texts, ",") != "MR,volume" {
		t.Fatalf("badges %v", texts)
	}
}

func walkObjects(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, child := range c.Objects {
			walkObjects(child, fn)
		}
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			walkObjects(child, fn)
		}
	}
}
