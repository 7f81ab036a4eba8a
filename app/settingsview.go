//go:build !headless

package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/inference"
)

// showSettings edits the settings file: execution provider and ONNX Runtime
// library. They apply at the next start.
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
	items := []*widget.FormItem{
		widget.NewFormItem("Execution provider", provider),
		widget.NewFormItem("ONNX Runtime library", ortLib),
		widget.NewFormItem("", widget.NewLabel("In use: "+g.s.Status(len(g.libGrid.Tiles())))),
	}
	d := dialog.NewForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		st.Provider, st.ORTLib = provider.Selected, ortLib.Text
		if err := st.Save(); err != nil {
			dialog.ShowError(err, g.win)
			return
		}
		g.status.SetText("Settings saved; they apply the next time M3Ret Viewer starts.")
	}, g.win)
	d.Resize(fyne.NewSize(560, 260))
	d.Show()
}
