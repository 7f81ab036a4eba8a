//go:build !headless

package app

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// startupMessage says in plain words why the window could not open, and
// what to do about it, for a user who sees no terminal.
func startupMessage(c *cli.Common, err error) string {
	switch {
	case errors.Is(err, library.ErrModelMismatch):
		return fmt.Sprintf("The library in %s was built with another model than %q.\n\n"+
			"To search it with that model, re-embed it once:\n    m3ret reindex --library %q --model %q\n"+
			"or, to open it with its own model, drop --model (and \"model\" in %s).",
			c.Library, c.Model, c.Library, c.Model, cli.SettingsPath())
	case errors.Is(err, library.ErrDamaged):
		return fmt.Sprintf("The library in %s is damaged (%v).\n\n"+
			"To mend it, keeping what can be read and listing the rest:\n    m3ret repair --library %q", c.Library, err, c.Library)
	case errors.Is(err, library.ErrLocked):
		return fmt.Sprintf("The library in %s is open in another M3Ret Viewer command that is changing it\n"+
			"(an import, say), and the wait for it was stopped.\n\nStart again once it has finished.", c.Library)
	}
	return fmt.Sprintf("M3Ret Viewer could not start:\n\n%v", err)
}

// startupErrorWindow shows msg with a Close button.
func startupErrorWindow(a fyne.App, msg string) fyne.Window {
	w := a.NewWindow("M3Ret Viewer")
	text := widget.NewLabel(msg) // the lines are broken by hand: a wrapped label would ask for the whole screen
	closeBtn := widget.NewButton("Close", w.Close)
	w.SetContent(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), closeBtn), nil, nil, text))
	w.SetFixedSize(true)
	return w
}
