package viewer

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/media"
)

// CompareView shows a query beside one of its neighbours, each with a
// heading, and scrolls them together by relative position. Use it from the
// UI goroutine only.
type CompareView struct {
	widget.BaseWidget
	Query, Result *ImageView
	queryTitle    *widget.Label
	resultTitle   *widget.Label
	syncing       bool
}

// NewCompareView returns an empty comparison.
func NewCompareView() *CompareView {
	c := &CompareView{Query: NewImageView(), Result: NewImageView(),
		queryTitle: widget.NewLabel("Query"), resultTitle: widget.NewLabel("Choose a result to compare")}
	c.queryTitle.TextStyle.Bold, c.resultTitle.TextStyle.Bold = true, true
	c.queryTitle.Truncation, c.resultTitle.Truncation = fyne.TextTruncateEllipsis, fyne.TextTruncateEllipsis
	c.Query.OnFrame = func(f int) { c.follow(c.Query, c.Result, f) }
	c.Result.OnFrame = func(f int) { c.follow(c.Result, c.Query, f) }
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
	a, b := from.Sample().Frames, other.Sample().Frames
	if a > 1 && b > 1 {
		other.SetFrame(int(float64(f)/float64(a-1)*float64(b-1) + 0.5))
	}
}

// SetPair shows query and result with their headings; score is the cosine
// similarity of their embeddings.
func (c *CompareView) SetPair(query *media.Sample, queryTitle string, result *media.Sample, resultTitle string, score float32) {
	c.Query.SetSample(query)
	c.Result.SetSample(result)
	c.queryTitle.SetText("Query — " + queryTitle)
	c.resultTitle.SetText(fmt.Sprintf("Similarity %.3f — %s", score, resultTitle))
}

// Titles returns the two headings (for tests and accessibility).
func (c *CompareView) Titles() (string, string) { return c.queryTitle.Text, c.resultTitle.Text }

// CreateRenderer implements fyne.Widget.
func (c *CompareView) CreateRenderer() fyne.WidgetRenderer {
	left := container.NewBorder(c.queryTitle, nil, nil, nil, c.Query)
	right := container.NewBorder(c.resultTitle, nil, nil, nil, c.Result)
	return widget.NewSimpleRenderer(container.NewGridWithColumns(2, left, right))
}
