//go:build !headless

package app

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
)

// Verdict choices as the notes panel shows them.
const (
	choiceSimilar    = "Similar"
	choiceNotSimilar = "Not similar"
)

// notesPanel is the strip under the comparison where the radiologist
// writes why a result is (or is not) similar to the query, a note on the
// result itself and its label. Ctrl+1 / Ctrl+2 mark the pair similar /
// not similar, Ctrl+S saves (so does leaving a field).
type notesPanel struct {
	g       *GUI
	verdict *widget.RadioGroup
	pair    *widget.Entry
	note    *widget.Entry
	label   *widget.SelectEntry
	save    *widget.Button
	state   *widget.Label
	shown   *controller.Annotations // what is on screen, as loaded
	content fyne.CanvasObject
}

func newNotesPanel(g *GUI) *notesPanel {
	p := &notesPanel{g: g, state: widget.NewLabel("")}
	p.verdict = widget.NewRadioGroup([]string{choiceSimilar, choiceNotSimilar}, func(string) { p.edited() })
	p.verdict.Horizontal = true
	p.pair = widget.NewEntry()
	p.pair.SetPlaceHolder("Why is this result similar, or not? (a note on this pair)")
	p.note = widget.NewEntry()
	p.note.SetPlaceHolder("A note on the result case")
	p.label = widget.NewSelectEntry(nil)
	p.label.SetPlaceHolder("Label (diagnosis, class)")
	for _, e := range []*widget.Entry{p.pair, p.note, &p.label.Entry} {
		e.OnChanged = func(string) { p.edited() }
		e.OnSubmitted = func(string) { p.Save() }
	}
	p.save = widget.NewButton("Save notes", p.Save)
	p.save.Disable()
	// One row, so that the comparison above keeps its height: the verdict,
	// the pair's note, the result's note and label, Save and its state.
	fields := container.NewGridWithColumns(3, p.pair, p.note, p.label)
	p.content = container.NewBorder(nil, nil, p.verdict, container.NewHBox(p.save, p.state), fields)
	p.enable(false)
	return p
}

// shortcuts adds the panel's keyboard shortcuts to the window's canvas.
func (p *notesPanel) shortcuts(c fyne.Canvas) {
	key := func(k fyne.KeyName, fn func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) {
			if p.g.shownTab() == tabCompare && p.shown != nil {
				fn()
			}
		})
	}
	key(fyne.Key1, func() { p.verdict.SetSelected(choiceSimilar) })
	key(fyne.Key2, func() { p.verdict.SetSelected(choiceNotSimilar) })
	key(fyne.KeyS, p.Save)
}

func (p *notesPanel) enable(on bool) {
	for _, w := range []fyne.Disableable{p.verdict, p.pair, p.note, p.label} {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
}

// Flush saves what was typed and not saved yet (before another result
// is shown).
func (p *notesPanel) Flush() {
	if p.shown != nil && !p.save.Disabled() {
		p.Save()
	}
}

// Show shows what was written about a comparison, as its job read it (a
// nil a, with err, when it could not be read).
func (p *notesPanel) Show(a *controller.Annotations, err error) {
	if a == nil {
		logf("read notes: %v", err)
		p.shown = nil
		p.enable(false)
		p.state.SetText("Notes unavailable")
		return
	}
	p.shown = a
	p.verdict.SetSelected(verdictChoice(a.Pair.Verdict))
	p.pair.SetText(a.Pair.Text)
	p.note.SetText(a.Note)
	p.label.SetOptions(a.Labels)
	p.label.SetText(a.Label)
	p.enable(true)
	if a.Pair.Query == "" { // a region or a refined search has no pair to note
		p.verdict.Disable()
		p.pair.Disable()
	}
	p.save.Disable()
	p.state.SetText("")
}

func (p *notesPanel) edited() {
	if p.shown != nil && p.current() != viewOf(p.shown) {
		p.save.Enable()
		p.state.SetText("Not saved")
	}
}

// current is what the fields hold.
func (p *notesPanel) current() annotationsView {
	return annotationsView{verdict: verdictOf(p.verdict.Selected), pair: p.pair.Text, note: p.note.Text, label: p.label.Text}
}

// Save stores the fields in the background.
func (p *notesPanel) Save() {
	if p.shown == nil || p.save.Disabled() {
		return
	}
	a := *p.shown
	v := p.current()
	a.Pair.Verdict, a.Pair.Text, a.Note, a.Label = v.verdict, v.pair, v.note, v.label
	p.save.Disable()
	p.state.SetText("Saving…")
	p.g.started("Saving the notes", p.g.s.StartSaveAnnotations(a, func(err error) {
		if err != nil {
			logf("save notes: %v", err)
			p.state.SetText("Not saved: " + notesProblem(err))
			p.save.Enable()
			return
		}
		p.shown = &a
		p.state.SetText("Saved")
	}))
}

func notesProblem(err error) string {
	if errors.Is(err, library.ErrNotFound) {
		return "the case is no longer in the library"
	}
	return plain(err)
}

// annotationsView is the comparable content of the panel.
type annotationsView struct {
	verdict           library.Verdict
	pair, note, label string
}

func viewOf(a *controller.Annotations) annotationsView {
	return annotationsView{verdict: a.Pair.Verdict, pair: a.Pair.Text, note: a.Note, label: a.Label}
}

func verdictChoice(v library.Verdict) string {
	switch v {
	case library.VerdictSimilar:
		return choiceSimilar
	case library.VerdictNotSimilar:
		return choiceNotSimilar
	}
	return ""
}

func verdictOf(choice string) library.Verdict {
	switch choice {
	case choiceSimilar:
		return library.VerdictSimilar
	case choiceNotSimilar:
		return library.VerdictNotSimilar
	}
	return library.VerdictNone
}
