//go:build !headless

package app

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// dialogTexts are the texts of the labels the top dialog shows.
func dialogTexts(t *testing.T, g *GUI) []string {
	t.Helper()
	top := g.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	var texts []string
	walk(top, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.Text != "" {
			texts = append(texts, l.Text)
		}
	})
	return texts
}

// openModels opens Settings → Models through the toolbar's menu.
func openModels(t *testing.T, g *GUI) *modelsView {
	t.Helper()
	var gear *widget.Button
	walk(g.win.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "" && b.Icon != nil && b.Icon.Name() == theme.SettingsIcon().Name() {
			gear = b
		}
	})
	if gear == nil {
		t.Fatal("no Settings button")
	}
	test.Tap(gear)
	var menu *widget.Menu
	var labels []string
	walk(g.win.Canvas().Overlays().Top(), func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.PopUpMenu:
			menu = w.Menu
		case *canvas.Text:
			labels = append(labels, w.Text)
		}
	})
	if menu == nil || !slices.Equal(labels, []string{"Settings…", "Models…"}) {
		t.Fatalf("the Settings menu shows %q", labels)
	}
	menu.ActivateNext() // the keyboard: down twice, Enter
	menu.ActivateNext()
	menu.TriggerLast()
	return g.models
}

func TestModelsDialog(t *testing.T) {
	t.Setenv("M3RET_MODELS", filepath.Join(t.TempDir(), "models"))
	g := newTestGUI(t)
	g.win.Resize(fyne.NewSize(1280, 800))
	v := openModels(t, g)
	g.Wait()

	texts := dialogTexts(t, g)
	for _, want := range []string{"m3ret-vit", "baseline", "in use", "CPU", "256", "embedded"} {
		if !slices.Contains(texts, want) {
			t.Fatalf("the list shows %q, not %q", texts, want)
		}
	}
	if len(v.rows) != 2 || v.cell(1, 6) != "in use" || v.cell(0, 6) != "" {
		t.Fatalf("rows %+v", v.rows)
	}

	for _, tt := range lyingManifests {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			v.add(writeModel(t, tt.edit))
			g.Wait()
			if !strings.Contains(v.note.Text, "Not added: the manifest does not describe this model file") ||
				!strings.Contains(v.note.Text, tt.want) || v.note.Importance != widget.DangerImportance {
				t.Fatalf("note %q", v.note.Text)
			}
			if len(v.rows) != 2 {
				t.Fatalf("%d models listed after a refusal", len(v.rows))
			}
		})
	}

	v.add(filepath.Join(writeModel(t, nil), "baseline.onnx")) // the manifest is found beside it
	g.Wait()
	if len(v.rows) != 3 || v.rows[2].Version != "2" || !strings.HasPrefix(v.note.Text, "Added baseline 2") {
		t.Fatalf("after adding: %d rows, note %q", len(v.rows), v.note.Text)
	}
	if texts := dialogTexts(t, g); !slices.Contains(texts, "added") {
		t.Fatalf("the list shows %q", texts)
	}
}

// TestModelsDialogUse moves the window's library to another model: a
// re-embed held half way is cancelled (the library keeps its model), a
// second one completes and the library switches.
func TestModelsDialogUse(t *testing.T) {
	t.Setenv("M3RET_MODELS", filepath.Join(t.TempDir(), "models"))
	g := newTestGUI(t)
	dir := writeImages(t, 6)
	g.StartImport([]string{dir})
	g.Wait()
	g.s.Library().BatchSize = 1 // progress after every item
	g.showModels()
	v := g.models
	v.add(writeModel(t, nil))
	g.Wait()
	added := v.rows[2]
	old := g.s.Library().ModelID()

	v.hold = newReembedHold()
	v.startUse(added)
	<-v.hold.reached
	if !v.bar.Visible() || !v.cancel.Visible() || !g.progress.Visible() || v.cell(2, 6) != "re-embedding…" {
		t.Fatal("no progress shown during the re-embed")
	}
	if v.bar.Value < 0.5 || v.bar.Value >= 1 {
		t.Fatalf("held at %.2f", v.bar.Value)
	}
	test.Tap(v.cancel)
	close(v.hold.released)
	g.Wait()
	if g.s.Library().ModelID() != old || !strings.HasPrefix(v.note.Text, "Re-embedding cancelled; the library still uses baseline 1") {
		t.Fatalf("after cancel: model %s, note %q", g.s.Library().ModelID(), v.note.Text)
	}
	if v.bar.Visible() || g.progress.Visible() {
		t.Fatal("progress still shown")
	}

	v.hold = nil
	v.startUse(added)
	g.Wait()
	if g.s.Library().ModelID() != added.ID || g.s.Enc.ModelID() != added.ID || !strings.HasPrefix(v.note.Text, "The library now uses baseline 2") {
		t.Fatalf("after the switch: model %s, note %q", g.s.Library().ModelID(), v.note.Text)
	}
	if v.cell(2, 6) != "in use" || v.cell(1, 6) != "" {
		t.Fatal("the list does not show the new model in use")
	}
}
