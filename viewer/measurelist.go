package viewer

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/measure"
)

// MeasureHelp says how to measure, for hints and empty lists.
const MeasureHelp = "L length · G angle · E ellipse · B rectangle: drag to draw; drag a handle to edit; click to select, Delete removes it; Esc leaves the tool"

// measureListWidth is the side panel's width.
const measureListWidth = 230

// MeasureList is the side panel of an item's measurements: each with its
// kind, the slice it is on, its value and a delete button. It follows one
// or more ImageViews (the planes of a volume share one list). Use it from
// the UI goroutine only.
type MeasureList struct {
	widget.BaseWidget
	title *widget.Label
	rows  *fyne.Container
	space *canvas.Rectangle
	from  *ImageView
	shown []Measured
	// HideEmpty hides the panel while there is nothing to list.
	HideEmpty bool
}

// NewMeasureList returns an empty panel headed title.
func NewMeasureList(title string) *MeasureList {
	l := &MeasureList{title: widget.NewLabel(title), rows: container.NewVBox(), space: canvas.NewRectangle(nil)}
	l.space.SetMinSize(fyne.NewSize(measureListWidth, 0))
	l.title.TextStyle.Bold = true
	l.title.Truncation = fyne.TextTruncateEllipsis
	l.ExtendBaseWidget(l)
	l.fill(nil)
	return l
}

// Follow lists the measurements of these views from now on.
func (l *MeasureList) Follow(views ...*ImageView) {
	for _, v := range views {
		v.meas.lists = append(v.meas.lists, l)
	}
	if len(views) > 0 {
		v := views[0]
		l.show(v, v.Measured(), v.Selected())
	}
}

// Rows are the measurements listed.
func (l *MeasureList) Rows() []Measured { return l.shown }

// Delete removes the measurement of row i, as its button does.
func (l *MeasureList) Delete(i int) {
	if l.from != nil {
		l.from.DeleteMeasurement(i)
	}
}

// show lists rows, the measurements of v; sel is the one selected.
func (l *MeasureList) show(v *ImageView, rows []Measured, sel int) {
	l.from, l.shown = v, rows
	var s *planeNames
	if v.pl != nil {
		s = &planeNames{v.pl}
	}
	l.fill(func(i int, m Measured) string { return rowText(i, m, s, i == sel) })
}

func (l *MeasureList) fill(text func(int, Measured) string) {
	l.rows.Objects = nil
	if len(l.shown) == 0 || text == nil {
		hint := widget.NewLabel("No measurements.\n" + strings.ReplaceAll(MeasureHelp, "; ", ";\n"))
		hint.Wrapping = fyne.TextWrapWord
		hint.Importance = widget.LowImportance
		l.rows.Objects = append(l.rows.Objects, hint)
	}
	for i, m := range l.shown {
		lab := widget.NewLabel(text(i, m))
		lab.Wrapping = fyne.TextWrapWord
		del := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { l.Delete(i) })
		l.rows.Objects = append(l.rows.Objects, container.NewBorder(nil, nil, nil, del, lab))
	}
	l.rows.Refresh()
	if l.HideEmpty {
		l.Hidden = len(l.shown) == 0
		l.Refresh()
	}
}

// SetMinSize sets the smallest size of the list's scrolled part.
func (l *MeasureList) SetMinSize(s fyne.Size) { l.space.SetMinSize(s) }

// planeNames names the planes of the sample a list shows.
type planeNames struct{ pl *plane }

func (p *planeNames) where(m measure.Measurement) string {
	if p == nil {
		return ""
	}
	pl := &plane{s: p.pl.s, axis: m.Axis}
	_, _, n := pl.size()
	name := pl.name()
	if n <= 1 {
		return name
	}
	if name == "" || name == "Slices" {
		name = frameWord(pl)
	}
	return fmt.Sprintf("%s %d", strings.ToLower(name), m.Frame+1)
}

func rowText(i int, m Measured, p *planeNames, selected bool) string {
	head := fmt.Sprintf("%d · %s", i+1, toolNames[m.Kind])
	if w := p.where(m.Measurement); w != "" {
		head += " · " + w
	}
	if m.Label != "" {
		head += " · " + m.Label
	}
	if selected {
		head = "▸ " + head
	}
	return head + "\n" + strings.Join(m.Value.Lines(), "\n")
}

// CreateRenderer implements fyne.Widget.
func (l *MeasureList) CreateRenderer() fyne.WidgetRenderer {
	body := container.NewStack(l.space, container.NewVScroll(l.rows))
	return widget.NewSimpleRenderer(container.NewBorder(l.title, nil, nil, nil, body))
}
