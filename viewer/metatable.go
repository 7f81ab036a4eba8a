package viewer

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/media"
)

// MetaRow is one line of the metadata comparison.
type MetaRow struct {
	Field, Query, Result string
	Differs              bool
}

// CompareMeta lists the descriptive metadata of two samples side by side,
// marking the fields that differ. Patient ids and UIDs are left out: they
// say nothing about the images and are the most sensitive fields.
func CompareMeta(q, r *media.Sample) []MetaRow {
	fields := []struct {
		name string
		get  func(*media.Sample) string
	}{
		{"Kind", func(s *media.Sample) string { return string(s.Kind) }},
		{"Modality", func(s *media.Sample) string { return s.Meta.Modality }},
		{"Body part", func(s *media.Sample) string { return s.Meta.BodyPart }},
		{"Description", func(s *media.Sample) string { return s.Meta.SeriesDescription }},
		{"Study date", func(s *media.Sample) string { return s.Meta.StudyDate }},
		{"Format", func(s *media.Sample) string { return s.Meta.SourceFormat }},
		{"Photometric", func(s *media.Sample) string { return s.Meta.Photometric }},
		{"Matrix", func(s *media.Sample) string { return fmt.Sprintf("%d × %d", s.Width, s.Height) }},
		{"Slices/frames", func(s *media.Sample) string { return fmt.Sprint(s.TotalFrames()) }},
		{"Spacing (mm)", spacingText},
		{"Frame time", func(s *media.Sample) string { return msText(s.FrameTime) }},
		{"Orientation", func(s *media.Sample) string { return s.Meta.Orientation }},
		{"Default window", windowText},
	}
	rows := make([]MetaRow, len(fields))
	for i, f := range fields {
		row := MetaRow{Field: f.name, Query: "—", Result: "—"}
		if q != nil {
			row.Query = orDash(f.get(q))
		}
		if r != nil {
			row.Result = orDash(f.get(r))
		}
		row.Differs = q != nil && r != nil && !strings.EqualFold(row.Query, row.Result)
		rows[i] = row
	}
	return rows
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func spacingText(s *media.Sample) string {
	sp := s.Spacing
	if sp == [3]float64{} {
		return ""
	}
	out := fmt.Sprintf("%.3g × %.3g", sp[0], sp[1])
	if s.Frames > 1 && sp[2] > 0 {
		out += fmt.Sprintf(" × %.3g", sp[2])
	}
	return out
}

func msText(ms float64) string {
	if ms <= 0 {
		return ""
	}
	return fmt.Sprintf("%.3g ms", ms)
}

func windowText(s *media.Sample) string {
	if s.Window == nil {
		return ""
	}
	return fmt.Sprintf("W %s L %s", num(s.Window.Width), num(s.Window.Center))
}

// metaTable draws MetaRows compactly: a marker, the field, the two values.
// Rows that differ are marked "≠" in the warning colour.
type metaTable struct {
	widget.BaseWidget
	rows  []MetaRow
	texts [][4]*canvas.Text
	full  [][4]string // texts before shortening to fit
	box   *fyne.Container
}

const metaRowHeight = 17

func newMetaTable() *metaTable {
	t := &metaTable{box: &fyne.Container{}}
	t.ExtendBaseWidget(t)
	return t
}

// setRows replaces the rows.
func (t *metaTable) setRows(rows []MetaRow) {
	t.rows = rows
	t.texts, t.full = t.texts[:0], t.full[:0]
	t.box.Objects = nil
	head := MetaRow{Field: "Field", Query: "Query", Result: "Result"}
	for i, r := range append([]MetaRow{head}, rows...) {
		var line [4]*canvas.Text
		mark := ""
		if r.Differs {
			mark = "≠"
		}
		full := [4]string{mark, r.Field, r.Query, r.Result}
		t.full = append(t.full, full)
		for j, s := range full {
			c := canvas.NewText(s, theme.Color(theme.ColorNameForeground))
			c.TextSize = overlaySize
			if r.Differs {
				c.Color = theme.Color(theme.ColorNameWarning)
			}
			c.TextStyle.Bold = i == 0 || (j == 0)
			line[j] = c
			t.box.Objects = append(t.box.Objects, c)
		}
		t.texts = append(t.texts, line)
	}
	t.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (t *metaTable) CreateRenderer() fyne.WidgetRenderer {
	return &metaRenderer{t: t}
}

type metaRenderer struct{ t *metaTable }

func (r *metaRenderer) Layout(size fyne.Size) {
	field := float32(110)
	val := max(40, (size.Width-field-16)/2)
	xs := [4]float32{2, 16, 16 + field, 16 + field + val}
	for i, line := range r.t.texts {
		for j, c := range line {
			c.Move(fyne.NewPos(xs[j], float32(i*metaRowHeight)))
			w := val - 6
			if j < 2 {
				w = xs[j+1] - xs[j]
			}
			c.Resize(fyne.NewSize(w, metaRowHeight))
			c.Text = fit(r.t.full[i][j], c, w)
		}
	}
	r.t.box.Resize(size)
}

// fit shortens a text to width w with an ellipsis.
func fit(s string, c *canvas.Text, w float32) string {
	for len([]rune(s)) > 2 && fyne.MeasureText(s, c.TextSize, c.TextStyle).Width > w {
		rs := []rune(strings.TrimSuffix(s, "…"))
		s = string(rs[:len(rs)-1]) + "…"
	}
	return s
}

func (r *metaRenderer) MinSize() fyne.Size {
	return fyne.NewSize(300, float32(len(r.t.texts)*metaRowHeight))
}

func (r *metaRenderer) Refresh() {
	r.Layout(r.t.Size())
	for _, o := range r.t.box.Objects {
		o.Refresh()
	}
}

func (r *metaRenderer) Objects() []fyne.CanvasObject { return r.t.box.Objects }
func (r *metaRenderer) Destroy()                     {}
