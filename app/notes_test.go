//go:build !headless

package app

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// TestNoteCommands (issue 21, notes and labels): `note` and `label` write,
// read and clear; a pair note names its query by file; `note --list`
// lists them all; a query's filter finds an item by its note and label.
func TestNoteCommands(t *testing.T) {
	requireORT(t)
	lib := filepath.Join(t.TempDir(), "lib")
	dir := writeImages(t, 3)
	code, out, errs := runCLI(t, "import", "--library", lib, "--json", dir)
	var rep importDoc
	if json.Unmarshal([]byte(out), &rep); code != cli.ExitOK || len(rep.Items) != 3 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	ids := map[string]string{}
	for _, it := range rep.Items {
		ids[filepath.Base(it.Path)] = it.ID
	}
	a, b := ids["a.png"], ids["b.png"]
	for _, args := range [][]string{
		{"note", a, "ground-glass", "opacity"},
		{"label", a, "pneumonia"},
		{"note", "--query", filepath.Join(dir, "c.png"), "--result", b, "--verdict", "not-similar", "other", "lobe"},
	} {
		if code, _, errs := runCLI(t, append(args, "--library", lib)...); code != cli.ExitOK {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
	}
	if code, out, _ := runCLI(t, "note", "--library", lib, a); code != cli.ExitOK || out != "ground-glass opacity\n" {
		t.Fatalf("note %s: %d %q", a, code, out)
	}
	if code, out, _ := runCLI(t, "label", "--library", lib, a); code != cli.ExitOK || out != "pneumonia\n" {
		t.Fatalf("label %s: %d %q", a, code, out)
	}
	code, out, errs = runCLI(t, "note", "--list", "--json", "--library", lib)
	var doc struct {
		Notes  []library.Note    `json:"notes"`
		Labels map[string]string `json:"labels"`
	}
	if json.Unmarshal([]byte(out), &doc); code != cli.ExitOK || len(doc.Notes) != 2 || doc.Labels[a] != "pneumonia" ||
		doc.Notes[1].Verdict != library.VerdictNotSimilar || doc.Notes[1].Query != ids["c.png"] {
		t.Fatalf("note --list: %d %s %s", code, out, errs)
	}
	for filter, want := range map[string]string{"notes:opacity": a, "label:pneumonia": a, `verdict:"not similar"`: b} {
		code, out, errs := runCLI(t, "query", "--library", lib, "--filter", filter, "--json", filepath.Join(dir, "c.png"))
		if code != cli.ExitOK || strings.Count(out, `"id"`) != 1 || !strings.Contains(out, want) {
			t.Fatalf("query --filter %s: %d %s %s", filter, code, out, errs)
		}
	}
	if code, _, errs := runCLI(t, "note", "--query", a, "--result", b, "--verdict", "maybe", "--library", lib); code == cli.ExitOK || !strings.Contains(errs, "verdict") {
		t.Fatalf("a verdict of maybe: %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "note", "--clear", a, "--library", lib); code != cli.ExitOK {
		t.Fatal("note --clear")
	}
	if _, out, _ := runCLI(t, "note", "--library", lib, a); out != "\n" {
		t.Fatalf("a cleared note reads %q", out)
	}
}

// TestNotesPanel: under a comparison the radiologist marks the pair not
// similar, writes why, notes and labels the result, and saves; the notes
// come back when the comparison is opened again, and the filter finds the
// result by them.
func TestNotesPanel(t *testing.T) {
	g := newTestGUI(t)
	dir := writeImages(t, 4)
	g.StartImport([]string{dir})
	g.Wait()
	g.StartQueryFile(filepath.Join(dir, "b.png"))
	g.Wait()
	res := g.s.Current().Results[1].Item.ID
	g.ShowResult(res)
	g.Wait()
	p := g.notes
	if p.shown == nil || p.pair.Disabled() || !p.save.Disabled() {
		t.Fatalf("panel not ready: %+v", p.shown)
	}
	test.Type(p.pair, "different texture")
	p.verdict.SetSelected(choiceNotSimilar)
	test.Type(p.note, "artefact at the edge")
	test.Type(&p.label.Entry, "artefact")
	if p.save.Disabled() || p.state.Text != "Not saved" {
		t.Fatalf("edits not noticed: %q", p.state.Text)
	}
	test.Tap(p.save)
	g.Wait()
	if p.state.Text != "Saved" {
		t.Fatalf("save: %q", p.state.Text)
	}
	g.ShowResult(g.s.Current().Results[0].Item.ID) // another result, then back
	g.Wait()
	if p.pair.Text != "" {
		t.Fatalf("another result shows %q", p.pair.Text)
	}
	g.ShowResult(res)
	g.Wait()
	if p.pair.Text != "different texture" || p.verdict.Selected != choiceNotSimilar || p.note.Text != "artefact at the edge" || p.label.Text != "artefact" {
		t.Fatalf("reopened: %q %q %q %q", p.pair.Text, p.verdict.Selected, p.note.Text, p.label.Text)
	}
	for _, filter := range []string{"texture", `verdict:"not similar"`, "label:artefact"} {
		match, err := g.s.Library().Match(filter)
		if err != nil || len(match) != 1 || !match[res] {
			t.Fatalf("filter %s: %v %v", filter, match, err)
		}
	}
}
