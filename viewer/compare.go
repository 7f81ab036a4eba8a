package viewer

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/media"
)

// CompareView shows a query beside one of its neighbours: the similarity
// score, the two images scrolled together by relative position, a window
// that is linked (the same on both) or not, and a table of both items'
// metadata with the differences marked. ← and → (or the buttons) step
// through the result list through OnStep. Both images take the measuring
// tools, each side listing its own measurements. Use it from the UI
// goroutine only.
type CompareView struct {
	widget.BaseWidget
	Query, Result *ImageView
	queryTitle    *widget.Label
	resultTitle   *widget.Label
	link          *widget.Check
	refine        *widget.Button
	table         *metaTable
	rows          []MetaRow
	syncing       bool
	// QueryList and ResultList list each side's measurements (under its
	// image, while it has some).
	QueryList, ResultList *MeasureList

	// OnStep, if set, is called with -1 or +1 to show the previous or next
	// result.
	OnStep func(delta int)
	// OnRefine, if set, adds the result shown to the query as a second
	// example and searches again (the button shows only when it is set).
	OnRefine func()
	// OnExport, if set, offers the comparison for export (anonymised DICOM,
	// pictures of the views, a key-image note); the button shows only when
	// it is set.
	OnExport func()
}

// NewCompareView returns an empty comparison.
func NewCompareView() *CompareView {
	c := &CompareView{Query: NewImageView(), Result: NewImageView(),
		queryTitle: widget.NewLabel("Query"), resultTitle: widget.NewLabel("Choose a result to compare"),
		table: newMetaTable()}
	c.queryTitle.TextStyle.Bold, c.resultTitle.TextStyle.Bold = true, true
	c.queryTitle.Truncation, c.resultTitle.Truncation = fyne.TextTruncateEllipsis, fyne.TextTruncateEllipsis
	c.Query.OnFrame = func(f int) { c.follow(c.Query, c.Result, f) }
	c.Result.OnFrame = func(f int) { c.follow(c.Result, c.Query, f) }
	c.Query.OnWindow = func(w media.Window, inv bool) { c.shareWindow(c.Result, w, inv) }
	c.Result.OnWindow = func(w media.Window, inv bool) { c.shareWindow(c.Query, w, inv) }
	c.Query.OnKey, c.Result.OnKey = c.key, c.key
	c.QueryList, c.ResultList = NewMeasureList("Query measurements"), NewMeasureList("Result measurements")
	for _, l := range []*MeasureList{c.QueryList, c.ResultList} {
		l.HideEmpty = true
		l.SetMinSize(fyne.NewSize(0, 80))
	}
	c.QueryList.Follow(c.Query)
	c.ResultList.Follow(c.Result)
	c.link = widget.NewCheck("Link window", func(on bool) {
		if on {
			w, inv := c.Query.Window()
			c.Result.SetWindow(w, inv)
		}
	})
	c.refine = widget.NewButtonWithIcon("More like this", theme.ContentAddIcon(), func() {
		if c.OnRefine != nil {
			c.OnRefine()
		}
	})
	c.ExtendBaseWidget(c)
	return c
}

// follow moves other to the same relative position as from.
func (c *CompareView) follow(from, other *ImageView, f int) {
	if c.syncing || from.Sample() == nil || other.Sample() == nil {
		return
	}
	c.syncing = true
	defer func() { c.syncing = false }()
	a, b := from.Frames(), other.Frames()
	if a > 1 && b > 1 {
		other.SetFrame(int(float64(f)/float64(a-1)*float64(b-1) + 0.5))
	}
}

// shareWindow applies a window change to the other image when linked.
func (c *CompareView) shareWindow(other *ImageView, w media.Window, inv bool) {
	if c.link.Checked {
		other.SetWindow(w, inv)
	}
}

// Linked tells whether the window is shared.
func (c *CompareView) Linked() bool { return c.link.Checked }

// SetLinked links or unlinks the window.
func (c *CompareView) SetLinked(on bool) { c.link.SetChecked(on) }

func (c *CompareView) key(e *fyne.KeyEvent) bool {
	if c.OnStep == nil {
		return false
	}
	switch e.Name {
	case fyne.KeyLeft:
		c.OnStep(-1)
	case fyne.KeyRight:
		c.OnStep(1)
	default:
		return false
	}
	return true
}

// TypedKey lets the window pass keys to the comparison when no image has
// the focus.
func (c *CompareView) TypedKey(e *fyne.KeyEvent) {
	if !c.key(e) {
		c.Result.TypedKey(e)
	}
}

// SetPair shows query and result with their headings; score is the cosine
// similarity of their embeddings. The window starts linked when both have
// the same modality; the result keeps the query's relative position.
func (c *CompareView) SetPair(query *media.Sample, queryTitle string, result *media.Sample, resultTitle string, score float32) {
	if query != c.Query.Sample() {
		c.Query.SetSample(query)
	}
	c.Result.SetSample(result)
	c.queryTitle.SetText("Query — " + queryTitle)
	c.resultTitle.SetText(fmt.Sprintf("Similarity %.3f — %s", score, resultTitle))
	c.rows = CompareMeta(query, result)
	c.table.setRows(c.rows)
	same := query != nil && result != nil && query.Meta.Modality == result.Meta.Modality
	c.link.SetChecked(same)
	c.follow(c.Query, c.Result, c.Query.Frame())
}

// Titles returns the two headings (for tests and accessibility).
func (c *CompareView) Titles() (string, string) { return c.queryTitle.Text, c.resultTitle.Text }

// Metadata returns the rows of the metadata table.
func (c *CompareView) Metadata() []MetaRow { return c.rows }

// CreateRenderer implements fyne.Widget.
func (c *CompareView) CreateRenderer() fyne.WidgetRenderer {
	prev := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { c.step(-1) })
	next := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { c.step(1) })
	if c.OnRefine == nil {
		c.refine.Hide()
	}
	bar := container.NewHBox(prev, next, c.link, c.refine)
	if c.OnExport != nil {
		bar.Add(widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), c.OnExport))
	}
	left := container.NewBorder(c.queryTitle, c.QueryList, nil, nil, c.Query)
	right := container.NewBorder(c.resultTitle, c.ResultList, nil, nil, c.Result)
	images := container.NewGridWithColumns(2, left, right)
	// The metadata table scrolls, so that the comparison (with its
	// measurement lists and the window's notes under it) fits a laptop
	// screen whatever the number of rows.
	table := container.NewVScroll(c.table)
	table.SetMinSize(fyne.NewSize(0, compareTableHeight))
	return widget.NewSimpleRenderer(container.NewBorder(bar, table, nil, nil, images))
}

// compareTableHeight is the least height of the metadata table (about
// six rows); it scrolls for the rest.
const compareTableHeight = 120

func (c *CompareView) step(d int) {
	if c.OnStep != nil {
		c.OnStep(d)
	}
}
