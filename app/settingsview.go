//go:build !headless

package app

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// settingsButton is the toolbar's Settings: a menu of Settings… (the
// settings file) and Models… (Settings → Models).
func (g *GUI) settingsButton() *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon("", theme.SettingsIcon(), func() {
		menu := fyne.NewMenu("Settings", fyne.NewMenuItem("Settings…", g.showSettings), fyne.NewMenuItem("Models…", g.showModels))
		widget.ShowPopUpMenuAtRelativePosition(menu, g.win.Canvas(), fyne.NewPos(0, b.Size().Height), b)
	})
	return b
}

// showSettings edits the settings file: execution provider, ONNX Runtime
// library and department index. They apply at the next start.
func (g *GUI) showSettings() {
	st, err := cli.LoadSettings()
	if err != nil {
		logf("settings: %v", err)
	}
	options := append([]string{"auto"}, inference.Providers()...)
	provider := widget.NewSelect(options, nil)
	provider.SetSelected(cli.Or(st.Provider, "auto"))
	ortLib := widget.NewEntry()
	ortLib.SetPlaceHolder("beside the program, then the set-up's cache")
	ortLib.SetText(st.ORTLib)
	deptIndex := widget.NewEntry()
	deptIndex.SetPlaceHolder("weaviate://HOST:PORT/COLLECTION (empty: this library only)")
	deptIndex.SetText(st.Index)
	deptIndex.Validator = func(s string) error {
		if s != "" && !library.IsDeptURL(s) {
			return errors.New("a department index address starts with weaviate://")
		}
		return nil
	}
	deptKey := widget.NewPasswordEntry()
	deptKey.SetPlaceHolder("none")
	if st.IndexKeyIn != "" {
		deptKey.SetPlaceHolder("saved (type a new one to replace it)")
	}
	items := []*widget.FormItem{
		widget.NewFormItem("Execution provider", provider),
		widget.NewFormItem("ONNX Runtime library", ortLib),
		widget.NewFormItem("Department index", deptIndex),
		widget.NewFormItem("Department index API key", deptKey),
		widget.NewFormItem("", widget.NewLabel("In use: "+g.s.Status(len(g.libGrid.Tiles())))),
	}
	d := dialog.NewForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		st.Provider, st.ORTLib, st.Index = provider.Selected, ortLib.Text, deptIndex.Text
		if err := st.Save(); err != nil {
			dialog.ShowError(err, g.win)
			return
		}
		if deptKey.Text != "" { // kept in the keyring (else a 0600 file), never in the settings
			if _, err := cli.SetDeptKey(deptKey.Text); err != nil {
				dialog.ShowError(err, g.win)
				return
			}
		}
		g.status.SetText("Settings saved; they apply the next time M3Ret Viewer starts.")
	}, g.win)
	d.Resize(fyne.NewSize(600, 320))
	d.Show()
}
