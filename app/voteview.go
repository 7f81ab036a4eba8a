//go:build !headless

package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// votePanel shows, under the results, the label distribution among them
// (library.Vote, computed with the search): one line per label with its
// share, labels under the slider's threshold folded into "other", and how
// many results carry no label. It is hidden while no result is labelled.
// Its fields are the UI goroutine's.
type votePanel struct {
	content   *fyne.Container
	shares    *widget.Label
	threshold *widget.Slider
	thrLabel  *widget.Label
	vote      library.VoteResult
}

// defaultFold is the share under which a label starts folded into "other".
const defaultFold = 0.1

func newVotePanel() *votePanel {
	v := &votePanel{shares: widget.NewLabel(""), thrLabel: widget.NewLabel("")}
	v.shares.TextStyle.Monospace = true
	v.threshold = widget.NewSlider(0, 0.5)
	v.threshold.Step = 0.05
	v.threshold.Value = defaultFold
	v.threshold.OnChanged = func(float64) { v.render() }
	title := widget.NewLabel("Labels among the results")
	title.TextStyle.Bold = true
	fold := container.NewBorder(nil, nil, v.thrLabel, nil, v.threshold)
	v.content = container.NewVBox(title, v.shares, fold)
	v.content.Hide()
	return v
}

// Show puts a search's vote on the panel.
func (v *votePanel) Show(vote library.VoteResult) {
	v.vote = vote
	if vote.Labelled == 0 {
		v.content.Hide()
		return
	}
	v.render()
	v.content.Show()
}

// Text is what the panel says, "" while hidden.
func (v *votePanel) Text() string {
	if !v.content.Visible() {
		return ""
	}
	return v.shares.Text
}

func (v *votePanel) render() {
	v.thrLabel.SetText(fmt.Sprintf("Fold under %.2f", v.threshold.Value))
	v.shares.SetText(voteText(v.vote, v.threshold.Value))
}

// voteText is one line per label (a bar and the share), then the count of
// results without a label.
func voteText(vote library.VoteResult, threshold float64) string {
	var b strings.Builder
	for _, s := range vote.Fold(threshold) {
		bar := strings.Repeat("█", int(s.Share*20+0.5))
		fmt.Fprintf(&b, "%-20.20s %4.0f%% %s\n", cli.Text(s.Label), s.Share*100, bar)
	}
	fmt.Fprintf(&b, "of %d results, %s", vote.K, withoutLabel(vote.Unlabelled))
	return b.String()
}
