//go:build !headless

package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
)

// What the Export dialog of the comparison writes.
const (
	exportNote  = "Key-image note (one HTML page; prints to PDF)"
	exportPNG   = "The two views as displayed, PNG"
	exportJPEG  = "The two views as displayed, JPEG"
	exportDICOM = "Anonymised DICOM of the query and the result"
)

// exportSpec is what the user chose in the Export dialog.
type exportSpec struct {
	choice string
	text   string // free text for the note
	opt    library.ExportOptions
}

// exportShortcut makes Ctrl+E (Cmd+E) open the Export dialog while a
// comparison is shown (the comparison's Export… button does the same).
func (g *GUI) exportShortcut() {
	sc := &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	g.win.Canvas().AddShortcut(sc, func(fyne.Shortcut) {
		if g.shownTab() == tabCompare {
			g.showExport()
		}
	})
}

// comparing reports whether a comparison is on screen.
func (g *GUI) comparing() bool { return g.s.Current() != nil && g.s.Comparing() != "" }

// showExport asks what to export from the comparison shown, then where.
func (g *GUI) showExport() {
	if !g.comparing() {
		g.status.SetText("Open a comparison first: choose a result to see it beside the query.")
		return
	}
	choice := widget.NewRadioGroup([]string{exportNote, exportPNG, exportJPEG, exportDICOM}, nil)
	choice.SetSelected(exportNote)
	text := widget.NewMultiLineEntry()
	text.SetPlaceHolder("Free text for the note (for the tumour board, a colleague)")
	text.SetMinRowsVisible(4)
	if a, err := g.s.Annotations(g.s.Comparing()); err == nil {
		text.SetText(a.Pair.Text) // the pair's own note, to start from
	}
	shift := widget.NewCheck("DICOM: keep dates, all shifted by one random offset", nil)
	burned := widget.NewCheck("DICOM: allow images that may show burned-in text", nil)
	hint := widget.NewLabel("Patient name, ID, birth date and dates are left out of every export.")
	hint.Wrapping = fyne.TextWrapWord
	form := container.NewVBox(choice, text, shift, burned, hint)
	d := dialog.NewCustomConfirm("Export the comparison", "Choose a folder…", "Cancel", form, func(ok bool) {
		if ok {
			g.chooseExportFolder(exportSpec{choice.Selected, text.Text,
				library.ExportOptions{ShiftDates: shift.Checked, AllowBurnedIn: burned.Checked}})
		}
	}, g.win)
	d.Resize(fyne.NewSize(600, 460))
	d.Show()
}

func (g *GUI) chooseExportFolder(spec exportSpec) {
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			g.startExport(spec, u.Path())
		}
	}, g.win)
}

// startExport writes what spec asks for into dir, in the background.
func (g *GUI) startExport(spec exportSpec, dir string) {
	if !g.comparing() {
		return
	}
	switch spec.choice {
	case exportDICOM:
		g.startExportDICOM(spec.opt, dir)
	case exportPNG, exportJPEG:
		ext := ".png"
		if spec.choice == exportJPEG {
			ext = ".jpg"
		}
		views := g.renderViews(false)
		g.startWrite("the views", func() (string, error) { return writeViews(dir, ext, views) })
	default:
		note := g.buildNote(spec.text)
		g.startWrite("the key-image note", func() (string, error) { return writeNote(dir, note) })
	}
}

// startExportDICOM exports the query (an item, or the file searched with)
// and the result as anonymised DICOM, with progress and Cancel.
func (g *GUI) startExportDICOM(opt library.ExportOptions, dir string) {
	req := controller.ExportRequest{Dir: dir, Options: opt}
	if id := g.queryItem(); id != "" {
		req.Items = append(req.Items, id)
	} else if f := g.s.Current().File(); f != "" {
		req.Files = append(req.Files, f)
	}
	req.Items = append(req.Items, g.s.Comparing())
	g.showProgress("Exporting anonymised DICOM…", controller.Export)
	progress := throttle(g.do, func(done, total int) {
		g.progress.SetValue(float64(done) / float64(max(total, 1)))
		g.status.SetText(fmt.Sprintf("Exporting %d of %d files…", done, total))
	})
	if err := g.s.StartExportDICOM(req, progress, g.finishExportDICOM); err != nil {
		g.hideProgress()
		g.started("An export", err)
	}
}

// finishExportDICOM says how an export went (on the UI goroutine).
func (g *GUI) finishExportDICOM(rep library.ExportReport, err error) {
	g.hideProgress()
	switch {
	case controller.IsCancel(err):
		g.status.SetText("Export cancelled; nothing was kept.")
	case errors.Is(err, library.ErrBurnedIn):
		g.status.SetText("Not exported: an image may show burned-in patient text.")
		dialog.ShowInformation("Not exported", "One of the images may show burned-in patient text (an ultrasound, a "+
			"secondary capture, or Burned In Annotation is YES), which anonymisation cannot remove.\n\n"+
			"Check the images; to share them anyway, export again with “allow images that may show burned-in text”.", g.win)
	case errors.Is(err, library.ErrNotDICOM):
		g.status.SetText("Not exported: only DICOM items can be exported as DICOM; export the views as PNG instead.")
	case err != nil:
		g.status.SetText("Export failed: " + plain(err))
		logf("export: %v", err)
	default:
		g.status.SetText(fmt.Sprintf("Exported %d anonymised DICOM files (%d series)", len(rep.Files), rep.Series))
		if len(rep.Warnings) > 0 {
			dialog.ShowInformation("Exported, with warnings", strings.Join(rep.Warnings, "\n"), g.win)
		}
	}
}

// startWrite runs write in the background as an export job and says
// where it wrote.
func (g *GUI) startWrite(what string, write func() (string, error)) {
	g.status.SetText("Writing " + what + "…")
	err := g.s.StartWrite(func(context.Context) (string, error) { return write() }, func(path string, err error) {
		if err != nil {
			g.status.SetText("Could not write " + what + ": " + plain(err))
			logf("export %s: %v", what, err)
			return
		}
		g.status.SetText("Wrote " + path)
	})
	g.started("An export", err)
}
