package viewer

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
)

// planeColours tell the three planes apart: a cross-reference line has the
// colour of the plane it stands for.
var planeColours = [3]color.Color{
	color.NRGBA{R: 90, G: 170, B: 255, A: 230}, // native (axial)
	color.NRGBA{R: 90, G: 220, B: 120, A: 230}, // rows (coronal)
	color.NRGBA{R: 255, G: 140, B: 80, A: 230}, // columns (sagittal)
}

// Layouts of a VolumeView.
const (
	LayoutThree = "3 planes"
	LayoutOne   = "1 plane"
)

// VolumeView shows a volume in its three planes side by side (axial,
// coronal and sagittal for an axial stack) at the aspect the spacing gives.
// Each plane scrolls with the wheel, the arrow keys and its slider; lines
// show where the other two planes cut it, and clicking a point moves them
// there. The window is shared by the three. Use it from the UI goroutine
// only.
type VolumeView struct {
	widget.BaseWidget
	// Views are the planes: Native, FixRow, FixColumn.
	Views   [3]*ImageView
	pos     [3]int // the point the planes go through: x, y, t
	single  int    // the plane shown alone in LayoutOne
	layout  *widget.Select
	panes   *fyne.Container
	syncing bool
	// List is the side panel of the volume's measurements, which the three
	// planes share.
	List *MeasureList
}

// NewVolumeView returns an empty view.
func NewVolumeView() *VolumeView {
	vv := &VolumeView{}
	for i := range vv.Views {
		v := NewImageView()
		v.lines[0].StrokeColor, v.lines[1].StrokeColor = planeColours[crossPlanes[i][0]], planeColours[crossPlanes[i][1]]
		v.OnFrame = func(f int) { vv.moved(i, f) }
		v.OnPoint = func(x, y int) { vv.pointed(i, x, y) }
		v.OnWindow = func(w media.Window, inv bool) { vv.windowed(i, w, inv) }
		v.meas.onChange = func() { vv.measured(i) }
		vv.Views[i] = v
	}
	vv.List = NewMeasureList("Measurements")
	vv.List.HideEmpty = true
	vv.List.Follow(vv.Views[:]...)
	vv.panes = container.NewGridWithColumns(3, vv.Views[0], vv.Views[1], vv.Views[2])
	vv.layout = widget.NewSelect([]string{LayoutThree, "Plane 1", "Plane 2", "Plane 3"}, vv.setLayout)
	vv.layout.SetSelected(LayoutThree)
	vv.ExtendBaseWidget(vv)
	return vv
}

// crossPlanes are, for each plane, the planes its vertical and horizontal
// cross-reference lines stand for.
var crossPlanes = [3][2]Axis{{FixColumn, FixRow}, {FixColumn, Native}, {FixRow, Native}}

// SetSample shows s in three planes through its centre; nil clears.
func (vv *VolumeView) SetSample(s *media.Sample) {
	for i, v := range vv.Views {
		v.SetPlane(s, Axis(i))
	}
	if s != nil { // one window for the volume: the axial plane's default
		w, inv := vv.Views[0].Window()
		vv.Views[1].SetWindow(w, inv)
		vv.Views[2].SetWindow(w, inv)
		vv.Views[1].preset, vv.Views[2].preset = vv.Views[0].preset, vv.Views[0].preset
		vv.pos = [3]int{s.Width / 2, s.Height / 2, s.Frames / 2}
		names := []string{LayoutThree}
		for _, v := range vv.Views {
			names = append(names, v.PlaneName())
		}
		vv.layout.Options = names
		vv.layout.Refresh()
	}
	vv.follow()
}

// Sample returns the volume shown.
func (vv *VolumeView) Sample() *media.Sample { return vv.Views[0].Sample() }

// Point is the point (x, y, slice) the three planes go through.
func (vv *VolumeView) Point() [3]int { return vv.pos }

// SetPoint moves the three planes to go through (x, y, t).
func (vv *VolumeView) SetPoint(x, y, t int) {
	s := vv.Sample()
	if s == nil {
		return
	}
	vv.pos = [3]int{clampInt(x, s.Width), clampInt(y, s.Height), clampInt(t, s.Frames)}
	vv.follow()
}

func clampInt(v, n int) int { return max(0, min(n-1, v)) }

// moved records that plane i now shows slice f.
func (vv *VolumeView) moved(i, f int) {
	if vv.syncing {
		return
	}
	vv.pos[[3]int{2, 1, 0}[i]] = f
	vv.follow()
}

// pointed moves the other planes through the pixel clicked on plane i.
func (vv *VolumeView) pointed(i, x, y int) {
	v := vv.Views[i]
	sx, sy, st := v.pl.toStack(v.Frame(), x, y)
	vv.SetPoint(sx, sy, st)
}

// windowed shares a window change with the other planes.
func (vv *VolumeView) windowed(i int, w media.Window, inv bool) {
	for j, v := range vv.Views {
		if j != i {
			v.SetWindow(w, inv)
		}
	}
}

// follow shows every plane at the position and places the lines.
func (vv *VolumeView) follow() {
	if vv.Sample() == nil {
		return
	}
	vv.syncing = true
	defer func() { vv.syncing = false }()
	for _, v := range vv.Views {
		f, x, y := v.pl.fromStack(vv.pos[0], vv.pos[1], vv.pos[2])
		v.SetFrame(f)
		v.SetCross(x, y)
	}
}

// measured gives the other planes the measurements plane i changed.
func (vv *VolumeView) measured(i int) {
	ms := vv.Views[i].Measurements()
	for j, v := range vv.Views {
		if j != i {
			v.SetMeasurements(ms)
		}
	}
}

// SetMeasurements shows the volume's measurements, each on its plane.
func (vv *VolumeView) SetMeasurements(ms []measure.Measurement) {
	for _, v := range vv.Views {
		v.SetMeasurements(ms)
	}
}

// setLayout shows the three planes, or one of them alone.
func (vv *VolumeView) setLayout(name string) {
	if vv.panes == nil {
		return
	}
	for i, o := range vv.layout.Options {
		if o != name {
			continue
		}
		if i == 0 {
			vv.panes.Objects = []fyne.CanvasObject{vv.Views[0], vv.Views[1], vv.Views[2]}
			vv.panes.Layout = container.NewGridWithColumns(3).Layout
		} else {
			vv.single = i - 1
			vv.panes.Objects = []fyne.CanvasObject{vv.Views[i-1]}
			vv.panes.Layout = container.NewGridWithColumns(1).Layout
		}
		vv.panes.Refresh()
	}
}

// SetLayout shows the three planes (LayoutThree) or plane i (0-2) alone.
func (vv *VolumeView) SetLayout(three bool, i int) {
	if three {
		vv.layout.SetSelectedIndex(0)
		return
	}
	vv.layout.SetSelectedIndex(i + 1)
}

// CreateRenderer implements fyne.Widget.
func (vv *VolumeView) CreateRenderer() fyne.WidgetRenderer {
	hint := widget.NewLabel("wheel or ↑↓: slices · click: move the other planes · right-drag: window · 1-5: presets · i: invert · Ctrl+wheel: zoom · middle-drag: pan · f: fit · a: 1:1 · measure: L length, G angle, E ellipse, B rectangle")
	hint.Truncation = fyne.TextTruncateEllipsis
	hint.Importance = widget.LowImportance
	top := container.NewBorder(nil, nil, vv.layout, nil, hint)
	return widget.NewSimpleRenderer(container.NewBorder(top, nil, nil, vv.List, vv.panes))
}
