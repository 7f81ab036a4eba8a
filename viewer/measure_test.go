package viewer

import (
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
)

// calibrated is a 100×80 grey ramp (0 to 99 across) with 0.5 × 0.8 mm
// pixels.
func calibrated() *media.Sample {
	s := &media.Sample{Kind: media.Image2D, Width: 100, Height: 80, Frames: 1, Channels: 1,
		Data: make([]float32, 8000), Spacing: [3]float64{0.5, 0.8, 0}, Meta: media.Meta{Modality: "DX"}}
	for i := range s.Data {
		s.Data[i] = float32(i % 100)
	}
	return s
}

// dragOn drags with the left button from slice point a to b in three
// steps, as the desktop driver reports it.
func dragOn(v *ImageView, a, b measure.Point) { v.Drag(a, b, 3) }

func TestMeasureLengthDrawEditDelete(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 500, 400)
	v.SetSample(calibrated())
	var saved [][]measure.Measurement
	v.OnMeasurementsChanged = func(ms []measure.Measurement) { saved = append(saved, ms) }
	win, _ := v.Window()
	v.TypedRune('l')
	if v.Tool() != measure.Length {
		t.Fatalf("tool %q after l", v.Tool())
	}
	dragOn(v, measure.Point{X: 10, Y: 20}, measure.Point{X: 34, Y: 40})
	ms := v.Measured()
	// 24 px × 0.5 mm across, 20 px × 0.8 mm down: 20 mm.
	if len(ms) != 1 || ms[0].Kind != measure.Length || math.Abs(ms[0].Value.Length-20) > 0.05 || ms[0].Value.Unit != "mm" {
		t.Fatalf("drawn %+v", ms)
	}
	if w, _ := v.Window(); w != win || len(saved) != 1 || len(saved[0]) != 1 {
		t.Fatalf("window %v (was %v), saved %d times", w, win, len(saved))
	}
	// Drag the far handle down 20 px: 12 mm across, 32 mm down.
	dragOn(v, measure.Point{X: 34, Y: 40}, measure.Point{X: 34, Y: 60})
	if got := v.Measured()[0].Value.Length; math.Abs(got-math.Hypot(12, 32)) > 0.05 || len(saved) != 2 {
		t.Fatalf("edited to %v mm, saved %d times", got, len(saved))
	}
	v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if v.Tool() != "" || v.Selected() != -1 {
		t.Fatalf("Esc left tool %q, selection %d", v.Tool(), v.Selected())
	}
	mid := v.ScreenPos(22, 40)
	v.Tapped(&fyne.PointEvent{Position: mid})
	if v.Selected() != 0 {
		t.Fatalf("click on the line selected %d", v.Selected())
	}
	v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if len(v.Measurements()) != 0 || len(saved) != 3 || len(saved[2]) != 0 {
		t.Fatalf("after Delete: %+v, saved %d", v.Measurements(), len(saved))
	}
}

// TestMeasureDrawnInExport checks that Render (the exported view) carries
// the measurements: the line's pixels take the measurement colour on a
// grey slice.
func TestMeasureDrawnInExport(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 400, 320)
	v.SetSample(calibrated())
	a := v.Size()
	w, h := int(a.Width), int(a.Height)
	mid := v.ScreenPos(50, 40)
	plain := v.Render(w, h).At(int(mid.X), int(mid.Y))
	v.SetMeasurements([]measure.Measurement{{Kind: measure.Length, Points: []measure.Point{{X: 20, Y: 40}, {X: 80, Y: 40}}}})
	img := v.Render(w, h)
	r, g, b, _ := img.At(int(mid.X), int(mid.Y)).RGBA()
	pr, pg, pb, _ := plain.RGBA()
	if pr != pg || pg != pb || r < g || g < b || r-b < 0x6000 {
		t.Fatalf("line pixel %x %x %x (slice %x %x %x)", r, g, b, pr, pg, pb)
	}
	v.SetMeasurements(nil)
	if r, _, b, _ := v.Render(w, h).At(int(mid.X), int(mid.Y)).RGBA(); r != b {
		t.Fatal("measurement still drawn after it was removed")
	}
}

func TestMeasureWithoutSpacingAndAngle(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 400, 400)
	s := calibrated()
	s.Spacing = [3]float64{}
	v.SetSample(s)
	v.TypedRune('l')
	dragOn(v, measure.Point{X: 10, Y: 10}, measure.Point{X: 40, Y: 50})
	m := v.Measured()[0]
	if m.Value.Unit != "px" || math.Abs(m.Value.Length-50) > 0.1 || !strings.Contains(v.info.Text, "px — no pixel spacing") {
		t.Fatalf("uncalibrated length %+v, info %q", m.Value, v.info.Text)
	}
	if got := m.Value.Lines()[0]; !strings.HasSuffix(got, "px — no pixel spacing") {
		t.Fatalf("label %q", got)
	}
	v.TypedRune('g')
	dragOn(v, measure.Point{X: 60, Y: 10}, measure.Point{X: 60, Y: 40}) // first arm, to the vertex
	if len(v.Measurements()) != 1 {
		t.Fatal("a half-drawn angle counts as a measurement")
	}
	v.Tapped(&fyne.PointEvent{Position: v.ScreenPos(90, 40)})
	ms := v.Measured()
	if len(ms) != 2 || ms[1].Kind != measure.Angle || math.Abs(ms[1].Value.Degrees-90) > 0.5 {
		t.Fatalf("angle %+v", ms)
	}
}

func TestMeasureRegionOnCT(t *testing.T) {
	test.NewTempApp(t)
	v := NewImageView()
	shown(t, v, 400, 240)
	v.SetSample(ct())
	v.TypedRune('e')
	dragOn(v, measure.Point{X: 4, Y: 2}, measure.Point{X: 16, Y: 8})
	ms := v.Measured()
	if len(ms) != 1 || ms[0].Kind != measure.Ellipse || ms[0].Frame != v.Frame() {
		t.Fatalf("ellipse %+v", ms)
	}
	p, _ := measure.PlaneOf(ct(), measure.Native, v.Frame())
	want := measure.Measure(p, ms[0].Measurement)
	if got := ms[0].Value; got.N < 40 || got.Mean != want.Mean || got.ValueUnit != "HU" || !strings.Contains(got.String(), "HU") {
		t.Fatalf("ellipse value %+v, want %+v", got, want)
	}
	// On another slice the ellipse is not drawn; back on its slice it is.
	v.Step(1)
	if !v.meas.overlay.Hidden {
		t.Fatal("measurement layer shown on a slice without measurements")
	}
	v.Step(-1)
	if v.meas.overlay.Hidden {
		t.Fatal("measurement layer hidden on its slice")
	}
}

// TestMeasureBothSidesOfComparison draws with the same tools on the query
// and the result; each side lists and reports its own.
func TestMeasureBothSidesOfComparison(t *testing.T) {
	test.NewTempApp(t)
	c := NewCompareView()
	shown(t, c, 900, 600)
	c.SetPair(calibrated(), "q.dcm", ct(), "CT volume · r.dcm", 0.9)
	got := map[string]int{}
	c.Query.OnMeasurementsChanged = func(ms []measure.Measurement) { got["query"] = len(ms) }
	c.Result.OnMeasurementsChanged = func(ms []measure.Measurement) { got["result"] = len(ms) }
	for _, v := range []*ImageView{c.Query, c.Result} {
		v.TypedRune('l')
		dragOn(v, measure.Point{X: 2, Y: 2}, measure.Point{X: 12, Y: 2})
		v.TypedRune('e')
		dragOn(v, measure.Point{X: 4, Y: 5}, measure.Point{X: 10, Y: 9})
	}
	if got["query"] != 2 || got["result"] != 2 {
		t.Fatalf("reported %v", got)
	}
	q, r := c.QueryList.Rows(), c.ResultList.Rows()
	if len(q) != 2 || len(r) != 2 || c.QueryList.Hidden || c.ResultList.Hidden {
		t.Fatalf("lists: query %d rows, result %d rows", len(q), len(r))
	}
	// 10 px × 0.5 mm on the query; 10 px × 1 mm on the CT result.
	if math.Abs(q[0].Value.Length-5) > 0.05 || math.Abs(r[0].Value.Length-10) > 0.05 || r[1].Value.ValueUnit != "HU" {
		t.Fatalf("values: query %+v, result %+v", q[0].Value, r[0].Value)
	}
	c.ResultList.Delete(0)
	if got["result"] != 1 || len(c.ResultList.Rows()) != 1 || len(c.QueryList.Rows()) != 2 {
		t.Fatalf("delete from the result list: %v", got)
	}
}

// TestMeasureOnReformat measures on a coronal reformat, whose pixel height
// is the slice spacing, and shares the list between the planes.
func TestMeasureOnReformat(t *testing.T) {
	test.NewTempApp(t)
	vv := NewVolumeView()
	shown(t, vv, 900, 400)
	vv.SetSample(ct()) // 1 × 1 mm pixels, 3 mm slices
	cor := vv.Views[FixRow]
	cor.TypedRune('l')
	dragOn(cor, measure.Point{X: 5, Y: 1}, measure.Point{X: 5, Y: 4})
	ms := cor.Measured()
	if len(ms) != 1 || ms[0].Axis != measure.FixRow || math.Abs(ms[0].Value.Length-9) > 0.05 {
		t.Fatalf("coronal length %+v", ms)
	}
	if len(vv.Views[Native].Measurements()) != 1 || len(vv.List.Rows()) != 1 {
		t.Fatal("the planes do not share the list")
	}
	if !strings.Contains(rowText(0, vv.List.Rows()[0], &planeNames{cor.pl}, false), "coronal") {
		t.Fatalf("row %q", rowText(0, vv.List.Rows()[0], &planeNames{cor.pl}, false))
	}
}
