//go:build !headless

package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// modelsView is Settings → Models: the models the program can use
// (embedded, added by the user, adapted to this library) with the one the
// library uses, adding a model (checked against its manifest), and moving
// the library to another model: re-embedding it in the background, with
// progress and Cancel, while searches go on with the model in use. Its
// fields are the UI goroutine's.
type modelsView struct {
	g        *GUI
	dlg      *dialog.CustomDialog
	table    *widget.Table
	rows     []cli.ModelInfo
	selected int // the row chosen, -1 for none
	using    *widget.Label
	note     *widget.Label // what happened last, or why a model was refused
	bar      *widget.ProgressBar
	cancel   *widget.Button
	use      *widget.Button
	// target is the model being embedded ("" when none), provider the
	// execution provider it runs on once loaded.
	target, provider string
	done, total      int
	hold             *reembedHold // scripts only (see startupModels)
}

// modelColumns are the table's columns: title and width.
var modelColumns = []struct {
	title string
	width float32
}{{"Model", 170}, {"Version", 110}, {"Dimension", 90}, {"Size", 80}, {"From", 90}, {"Provider", 80}, {"This library", 130}}

// showModels opens Settings → Models.
func (g *GUI) showModels() {
	if g.models == nil {
		g.models = newModelsView(g)
	}
	g.models.reload()
	g.models.dlg.Show()
}

func newModelsView(g *GUI) *modelsView {
	v := &modelsView{g: g, selected: -1}
	v.table = widget.NewTableWithHeaders(func() (int, int) { return len(v.rows), len(modelColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.cell(id.Row, id.Col)) })
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(modelColumns[id.Col].title)
		}
	}
	for i, c := range modelColumns {
		v.table.SetColumnWidth(i, c.width)
	}
	v.table.OnSelected = func(id widget.TableCellID) { v.selected = id.Row }
	v.using = widget.NewLabel("")
	v.note = widget.NewLabel("")
	v.note.Wrapping = fyne.TextWrapWord
	v.bar = widget.NewProgressBar()
	v.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { g.s.Cancel(controller.Reindex) })
	v.bar.Hide()
	v.cancel.Hide()
	v.use = widget.NewButton("Use for this library", v.chooseUse)
	v.use.Importance = widget.HighImportance
	buttons := container.NewHBox(widget.NewButtonWithIcon("Add model…", theme.FileIcon(), v.chooseFiles),
		widget.NewButtonWithIcon("Add folder…", theme.FolderOpenIcon(), v.chooseFolder), v.use)
	space := canvas.NewRectangle(nil)
	space.SetMinSize(fyne.NewSize(760, 190))
	bottom := container.NewVBox(v.note, container.NewBorder(nil, nil, nil, v.cancel, v.bar), buttons)
	content := container.NewBorder(v.using, bottom, nil, nil, container.NewStack(space, v.table))
	v.dlg = dialog.NewCustom("Models", "Close", content, g.win)
	v.dlg.Resize(fyne.NewSize(820, 480))
	return v
}

// reload lists the models again (the model in use included, even when it
// is a file outside the models folders).
func (v *modelsView) reload() {
	lib := v.g.s.Library()
	rows, err := cli.ModelsFor(lib.Dir())
	if err != nil {
		v.refused(err)
	}
	if !hasModel(rows, lib.ModelID()) {
		rows = append(rows, cli.InfoOf(v.g.s.Enc.Manifest(), 0, "(file)"))
	}
	v.rows = rows
	v.using.SetText(fmt.Sprintf("This library (%s) uses %s.", lib.Dir(), v.nameOf(lib.ModelID())))
	v.table.Refresh()
}

func hasModel(rows []cli.ModelInfo, id string) bool {
	for _, m := range rows {
		if m.ID == id {
			return true
		}
	}
	return false
}

// nameOf is a model's name and version, by its id.
func (v *modelsView) nameOf(id string) string {
	for _, m := range v.rows {
		if m.ID == id {
			return modelName(m)
		}
	}
	return id
}

func modelName(m cli.ModelInfo) string { return m.Name + " " + m.Version }

// cell is the text of a table cell.
func (v *modelsView) cell(row, col int) string {
	if row < 0 || row >= len(v.rows) {
		return ""
	}
	m := v.rows[row]
	inUse := m.ID == v.g.s.Library().ModelID()
	switch col {
	case 0:
		return m.Name
	case 1:
		return m.Version
	case 2:
		return fmt.Sprint(m.Dim)
	case 3:
		if m.Size == 0 {
			return "—"
		}
		return sizeText(m.Size)
	case 4:
		return modelFrom(m)
	case 5:
		switch {
		case inUse:
			return strings.ToUpper(v.g.s.Enc.Provider())
		case m.ID == v.target && v.provider != "":
			return v.provider
		}
		return "—"
	}
	switch {
	case inUse:
		return "in use"
	case m.ID == v.target:
		return "re-embedding…"
	}
	return ""
}

func modelFrom(m cli.ModelInfo) string {
	switch {
	case m.Embedded:
		return "embedded"
	case m.Adapted:
		return "adapted"
	case m.Path == "(file)":
		return "file"
	}
	return "added"
}

// refused says why a model could not be added (or listed), in the
// dialog, in plain words.
func (v *modelsView) refused(err error) {
	v.note.Importance = widget.DangerImportance
	v.note.SetText(modelRefusal(err))
}

func (v *modelsView) say(msg string) {
	v.note.Importance = widget.MediumImportance
	v.note.SetText(msg)
}

// modelRefusal is why a model was not added, for the user.
func modelRefusal(err error) string {
	switch {
	case errors.Is(err, inference.ErrManifest):
		detail := strings.TrimSuffix(err.Error(), ": "+inference.ErrManifest.Error())
		return "Not added: the manifest does not describe this model file (" + detail + ")."
	case errors.Is(err, cli.ErrModelFiles):
		return "Not added: " + err.Error() + "."
	}
	return "Could not add the model: " + err.Error()
}

func (v *modelsView) chooseFiles() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err == nil && r != nil {
			r.Close()
			v.add(r.URI().Path())
		}
	}, v.g.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".onnx", ".json"}))
	d.Show()
}

func (v *modelsView) chooseFolder() {
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			v.add(u.Path())
		}
	}, v.g.win)
}

// add checks a model against its manifest and keeps a copy in the
// user's models folder, in the background.
func (v *modelsView) add(paths ...string) {
	v.say("Checking the model against its manifest…")
	err := controller.Run(v.g.s.Controller, controller.AddModel, func(context.Context) (cli.ModelInfo, error) {
		info, _, err := cli.AddModel(&cli.Common{}, paths...)
		return info, err
	}, func(info cli.ModelInfo, err error) {
		if err != nil {
			v.refused(err)
			logf("add model: %v", err)
			return
		}
		v.reload()
		v.say(fmt.Sprintf("Added %s (%d-d). Choose it and “Use for this library” to move the library to it.", modelName(info), info.Dim))
	})
	if err != nil {
		v.refused(err)
	}
}

// chooseUse asks before moving the library to the chosen model.
func (v *modelsView) chooseUse() {
	if v.selected < 0 || v.selected >= len(v.rows) {
		v.say("Choose a model in the list first.")
		return
	}
	m := v.rows[v.selected]
	lib := v.g.s.Library()
	if m.ID == lib.ModelID() {
		v.say("The library already uses " + modelName(m) + ".")
		return
	}
	msg := fmt.Sprintf("Re-embed the %d items of this library with %s?\n\nSearches go on with %s until it is done;\nthen the library switches to %s. You can cancel at any time.",
		len(v.g.libGrid.Tiles()), modelName(m), v.nameOf(lib.ModelID()), modelName(m))
	dialog.ShowConfirm("Use "+modelName(m), msg, func(ok bool) {
		if ok {
			v.startUse(m)
		}
	}, v.g.win)
}

// startUse re-embeds the library with m in the background (the status
// bar and the dialog show its progress, with Cancel).
func (v *modelsView) startUse(m cli.ModelInfo) {
	g := v.g
	v.target, v.provider, v.done, v.total = m.ID, "", 0, 0
	v.showRunning(true)
	g.showProgress("Loading "+modelName(m)+"…", controller.Reindex)
	update := func(done, total int) {
		v.done, v.total = done, total
		frac := float64(done) / float64(max(total, 1))
		g.progress.SetValue(frac)
		v.bar.SetValue(frac)
		g.status.SetText(fmt.Sprintf("Re-embedding the library with %s: %d of %d files…", modelName(m), done, total))
	}
	progress := throttle(g.do, update)
	if v.hold != nil {
		progress = v.hold.wrap(func(done, total int) { g.do(func() { update(done, total) }) }, progress)
	}
	provider := g.s.Enc.Provider()
	load := func(context.Context) (library.Embedder, error) {
		enc, err := cli.LoadModel(m.Spec(), inference.Options{Provider: provider})
		if err != nil {
			return nil, err
		}
		g.do(func() {
			v.provider = strings.ToUpper(enc.Provider())
			v.table.Refresh()
		})
		return enc, nil
	}
	v.table.Refresh() // before the job: its updates come through do
	if err := g.s.StartReembed(load, progress, func(r controller.Reembedded, err error) { v.finish(m, r, err) }); err != nil {
		v.target = ""
		v.showRunning(false)
		g.hideProgress()
		g.started("Re-embedding", err)
		v.say(g.status.Text)
		v.table.Refresh()
	}
}

func (v *modelsView) showRunning(on bool) {
	if on {
		v.bar.SetValue(0)
		v.bar.Show()
		v.cancel.Show()
		v.use.Disable()
		v.say("Re-embedding the library; searches go on with the model in use until it is done.")
		return
	}
	v.bar.Hide()
	v.cancel.Hide()
	v.use.Enable()
}

// finish shows how a re-embed ended and, once the library switched, puts
// the new encoder in the session's hands (the old one closed) and
// searches again in the new space.
func (v *modelsView) finish(m cli.ModelInfo, r controller.Reembedded, err error) {
	g := v.g
	v.target = ""
	v.showRunning(false)
	g.hideProgress()
	if r.Switched {
		old := g.s.Enc
		if enc, ok := r.New.(*inference.Encoder); ok {
			g.s.Enc = enc
			old.Close()
		}
		forgetModelSetting(m)
	} else if c, ok := r.New.(interface{ Close() error }); ok {
		c.Close()
	}
	v.reload()
	msg := reembedMessage(m, v.nameOf(g.s.Library().ModelID()), r, err)
	if r.Switched && g.scope.Selected == scopeDept { // the controller left it: built with the old model
		g.scope.Selected = scopeLocal
		g.scope.Refresh()
		msg += " The department index holds the old model's embeddings: searching this library."
	}
	if err != nil && !controller.IsCancel(err) {
		logf("re-embed: %v", err)
	}
	v.say(msg)
	if len(r.Report.Failed) > 0 {
		g.showFailures(r.Report.Failed)
	}
	g.refreshLibrary(msg)
	if r.Switched {
		g.requery()
	}
}

// reembedMessage says how a re-embed with m ended; inUse names the model
// the library uses now.
func reembedMessage(m cli.ModelInfo, inUse string, r controller.Reembedded, err error) string {
	rep := r.Report
	counts := fmt.Sprintf("%d items embedded, %d were already", rep.Imported, rep.Skipped)
	if len(rep.Failed) > 0 {
		counts += fmt.Sprintf(", %d could not be read (they stay in the library, not found by searches)", len(rep.Failed))
	}
	switch {
	case r.Switched && err != nil:
		return fmt.Sprintf("The library now uses %s (%s); afterwards: %s", modelName(m), counts, plain(err))
	case r.Switched:
		return fmt.Sprintf("The library now uses %s (%s).", modelName(m), counts)
	case controller.IsCancel(err):
		return fmt.Sprintf("Re-embedding cancelled; the library still uses %s. What was embedded is kept: using %s again goes on from there.",
			inUse, modelName(m))
	}
	return fmt.Sprintf("Re-embedding with %s stopped: %s. The library still uses %s.", modelName(m), plain(err), inUse)
}

// forgetModelSetting clears a model the settings name for every library
// when it is not m: the window would open this library with it at the
// next start and be refused.
func forgetModelSetting(m cli.ModelInfo) {
	st, err := cli.LoadSettings()
	if err != nil || st.Model == "" || st.Model == m.Spec() || st.Model == m.ID {
		return
	}
	st.Model = ""
	if err := st.Save(); err != nil {
		logf("settings: %v", err)
	}
}
