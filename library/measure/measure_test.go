package measure

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// flat is a w×h plane of value v with pixel size dx × dy.
func flat(w, h int, dx, dy float64, v float32) Plane {
	p := Plane{Width: w, Height: h, DX: dx, DY: dy, Values: make([]float32, w*h)}
	for i := range p.Values {
		p.Values[i] = v
	}
	return p
}

func TestLengthAndAngle(t *testing.T) {
	aniso := flat(100, 100, 0.5, 0.8, 0)
	none := flat(100, 100, 0, 0, 0)
	tests := []struct {
		name string
		p    Plane
		m    Measurement
		want float64
		unit string
	}{
		// 24 px × 0.5 mm = 12 mm across, 20 px × 0.8 mm = 16 mm down: 20 mm.
		{"anisotropic diagonal", aniso, Measurement{Kind: Length, Points: []Point{{10, 20}, {34, 40}}}, 20, "mm"},
		{"across uses column spacing", aniso, Measurement{Kind: Length, Points: []Point{{0, 5}, {10, 5}}}, 5, "mm"},
		{"down uses row spacing", aniso, Measurement{Kind: Length, Points: []Point{{5, 0}, {5, 10}}}, 8, "mm"},
		{"no spacing is pixels", none, Measurement{Kind: Length, Points: []Point{{0, 0}, {3, 4}}}, 5, "px"},
		{"right angle", none, Measurement{Kind: Angle, Points: []Point{{10, 0}, {0, 0}, {0, 10}}}, 90, "px"},
		{"straight", none, Measurement{Kind: Angle, Points: []Point{{-10, 0}, {0, 0}, {10, 0}}}, 180, "px"},
		// 45° on screen pixels, but 0.5 × 0.8 mm pixels make it atan(0.8/0.5).
		{"angle in physical space", aniso, Measurement{Kind: Angle, Points: []Point{{10, 0}, {0, 0}, {10, 10}}}, math.Atan(0.8/0.5) * 180 / math.Pi, "mm"},
		{"degenerate angle", none, Measurement{Kind: Angle, Points: []Point{{0, 0}, {0, 0}, {1, 1}}}, 0, "px"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Measure(tc.p, tc.m)
			got := v.Length
			if tc.m.Kind == Angle {
				got = v.Degrees
			}
			if v.Err != nil || !near(got, tc.want, 1e-9) || v.Unit != tc.unit {
				t.Fatalf("Measure = %v %s (err %v), want %v %s", got, v.Unit, v.Err, tc.want, tc.unit)
			}
		})
	}
}

// TestCalibrationSyntheticSpacing is the first calibration test: a sample
// with 0.5 × 0.8 mm pixels (the rows and columns differ), a line of known
// length on the native plane and on a reformat, whose pixel height is the
// slice spacing (2.5 mm).
func TestCalibrationSyntheticSpacing(t *testing.T) {
	s := &media.Sample{Kind: media.Volume, Width: 64, Height: 48, Frames: 12, Channels: 1,
		Data: make([]float32, 64*48*12), Spacing: [3]float64{0.5, 0.8, 2.5}}
	tests := []struct {
		axis   Axis
		a, b   Point
		wantMM float64
	}{
		{Native, Point{4, 6}, Point{28, 26}, 20},   // 12 mm across, 16 mm down
		{Native, Point{0, 0}, Point{60, 0}, 30},    // 60 × 0.5
		{FixRow, Point{10, 1}, Point{10, 9}, 20},   // 8 slices × 2.5 mm
		{FixRow, Point{2, 2}, Point{14, 7}, 0},     // hypot(6, 12.5 mm): set below
		{FixColumn, Point{0, 3}, Point{25, 3}, 20}, // 25 rows × 0.8 mm
	}
	tests[3].wantMM = math.Hypot(12*0.5, 5*2.5)
	for _, tc := range tests {
		p, err := PlaneOf(s, tc.axis, 3)
		if err != nil {
			t.Fatal(err)
		}
		v := Measure(p, Measurement{Kind: Length, Axis: tc.axis, Points: []Point{tc.a, tc.b}})
		if v.Unit != "mm" || !near(v.Length, tc.wantMM, 1e-9) {
			t.Errorf("axis %d %v→%v: %v %s, want %v mm", tc.axis, tc.a, tc.b, v.Length, v.Unit, tc.wantMM)
		}
	}
	// Without slice spacing a reformat has no calibration, the native plane keeps it.
	s.Spacing[2] = 0
	if p, _ := PlaneOf(s, FixRow, 0); p.Calibrated() {
		t.Error("reformat without slice spacing claims mm")
	}
	if p, _ := PlaneOf(s, Native, 0); !p.Calibrated() {
		t.Error("native plane lost its spacing")
	}
}

func TestRegionStatistics(t *testing.T) {
	// A 10×10 plane, value x+10y, 2 × 3 mm pixels.
	p := Plane{Width: 10, Height: 10, DX: 2, DY: 3, Unit: "HU", Values: make([]float32, 100)}
	for i := range p.Values {
		p.Values[i] = float32(i%10 + 10*(i/10))
	}
	// The rect over pixels 2..4 × 1..2: values 12,13,14,22,23,24.
	v := Measure(p, Measurement{Kind: Rect, Points: []Point{{5, 3}, {2, 1}}})
	wantSD := math.Sqrt((36 + 25 + 16 + 16 + 25 + 36) / 5.0) // deviations from 18, n−1
	if v.N != 6 || v.Mean != 18 || v.Min != 12 || v.Max != 24 || !near(v.SD, wantSD, 1e-9) || v.Area != 3*2*2*3 {
		t.Fatalf("rect %+v, want N 6 mean 18 min 12 max 24 SD %v area 36", v, wantSD)
	}
	// A circle of radius 3 px centred on (5, 5): 32 pixel centres lie within
	// 3 (the 6×6 box but its corners), symmetric about 4.5 + 10×4.5.
	e := Measure(p, Measurement{Kind: Ellipse, Points: []Point{{2, 2}, {8, 8}}})
	if e.N != 32 || !near(e.Mean, 49.5, 1e-9) || !near(e.Area, math.Pi*9*6, 1e-9) {
		t.Fatalf("ellipse N %d mean %v area %v", e.N, e.Mean, e.Area)
	}
	// A region partly outside the plane counts what is inside only.
	out := Measure(p, Measurement{Kind: Rect, Points: []Point{{-5, -5}, {1, 1}}})
	if out.N != 1 || out.Mean != 0 || out.SD != 0 {
		t.Fatalf("clipped rect %+v", out)
	}
	if s := v.String(); s != "mean 18.0 HU, SD 5.5, min 12.0, max 24.0, area 36.0 mm²" {
		t.Fatalf("label %q", s)
	}
}

func TestLabelsAndValidation(t *testing.T) {
	none := flat(10, 10, 0, 0, 1)
	v := Measure(none, Measurement{Kind: Length, Points: []Point{{0, 0}, {3, 4}}})
	if s := v.String(); s != "5.0 px (no pixel spacing)" || v.Calibrated {
		t.Fatalf("uncalibrated label %q", s)
	}
	r := Measure(none, Measurement{Kind: Ellipse, Points: []Point{{0, 0}, {4, 4}}})
	if s := r.String(); !strings.HasSuffix(s, "px² (no pixel spacing)") || strings.Contains(s, "HU") {
		t.Fatalf("uncalibrated region label %q", s)
	}
	if s := Measure(none, Measurement{Kind: Angle, Points: []Point{{1, 0}, {0, 0}, {0, 1}}}).String(); s != "90.0°" {
		t.Fatalf("angle label %q", s)
	}
	for _, m := range []Measurement{{Kind: "circle", Points: []Point{{}, {}}}, {Kind: Angle, Points: []Point{{}, {}}},
		{Kind: Length, Points: []Point{{}, {X: math.NaN()}}}} {
		if v := Measure(none, m); !errors.Is(v.Err, ErrInvalid) {
			t.Errorf("%+v accepted", m)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	ms := []Measurement{{Kind: Length, Axis: FixRow, Frame: 7, Points: []Point{{1.5, 2}, {3, 4.25}}, Label: "lesion"},
		{Kind: Angle, Points: []Point{{0, 0}, {1, 1}, {2, 0}}}}
	doc, err := Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(append(doc[:len(doc)-1], []byte(`,{"kind":"length","points":[]}]`)...))
	if err != nil || len(back) != 2 || back[0].Label != "lesion" || back[0].Points[1].Y != 4.25 || back[0].Axis != FixRow || back[0].Frame != 7 {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	if empty, _ := Marshal(nil); string(empty) != "[]" {
		t.Fatalf("nil list %s", empty)
	}
}

// TestPlaneOfReformat checks the cut and flip of the reformats: slice t of
// a feet-to-head stack is row h-1-t of a coronal plane.
func TestPlaneOfReformat(t *testing.T) {
	s := &media.Sample{Kind: media.Volume, Width: 3, Height: 2, Frames: 4, Channels: 1, Data: make([]float32, 24),
		Meta: media.Meta{Orientation: "LPS", Modality: "CT"}}
	for i := range s.Data {
		s.Data[i] = float32(i) // x + 3y + 6t
	}
	cor, _ := PlaneOf(s, FixRow, 1) // y = 1: x across, t up
	sag, _ := PlaneOf(s, FixColumn, 2)
	if cor.Width != 3 || cor.Height != 4 || cor.Values[0] != 3+18 || cor.Values[3*3+2] != 5 || cor.Unit != "HU" {
		t.Fatalf("coronal %v", cor.Values)
	}
	if sag.Width != 2 || sag.Height != 4 || sag.Values[0] != 2+18 || sag.Values[7] != 5 {
		t.Fatalf("sagittal %v", sag.Values)
	}
	if _, err := PlaneOf(s, Native, 4); err == nil {
		t.Fatal("slice out of range accepted")
	}
}

func TestLines(t *testing.T) {
	p := Plane{Width: 4, Height: 4, DX: 1, DY: 1, Unit: "HU", Values: make([]float32, 16)}
	r := Measure(p, Measurement{Kind: Rect, Points: []Point{{0, 0}, {2, 2}}})
	if got := strings.Join(r.Lines(), " / "); got != "mean 0.0 HU, SD 0.0 / min 0.0, max 0.0 / area 4.0 mm²" {
		t.Fatalf("region lines %q", got)
	}
	p.DX, p.DY = 0, 0
	l := Measure(p, Measurement{Kind: Length, Points: []Point{{0, 0}, {0, 2}}})
	if got := l.Lines(); len(got) != 1 || got[0] != "2.0 px — no pixel spacing" {
		t.Fatalf("uncalibrated length lines %q", got)
	}
}
