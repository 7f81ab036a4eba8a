//go:build !headless

package app

import (
	"io"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
)

// opened is the outcome of opening the window's session.
type opened struct {
	s   *cli.Session
	err error
}

// opening is the window's session being opened in the background: done
// delivers it; waiting is closed if it has to wait for another m3ret
// first.
type opening struct {
	done    chan opened
	waiting chan struct{}
}

// openForWindow opens the library shared for the window, in the
// background, so that a wait for another m3ret can be shown in a window.
func openForWindow(c *cli.Common, stderr io.Writer, ui *poster) *opening {
	o := &opening{done: make(chan opened, 1), waiting: make(chan struct{})}
	go func() {
		s, err := cli.OpenNotifying(c, stderr, controller.Options{Post: ui.do}, library.Shared, func() { close(o.waiting) })
		o.done <- opened{s, err}
	}()
	return o
}

// waitForLibrary shows, while another m3ret holds the library, a small
// window that says so (Quit leaves), then the main window once the
// library opens, or the reason it could not. It runs the app: it returns
// only when the process ends.
func waitForLibrary(a fyne.App, o *opening, c *cli.Common, st startup, stderr io.Writer, ui *poster) {
	w := a.NewWindow("M3Ret Viewer")
	msg := widget.NewLabel("The library is in use by another m3ret (an import, a repair…).\n" +
		"The window opens as soon as it is done.")
	bar := widget.NewProgressBarInfinite()
	quit := widget.NewButton("Quit", func() { os.Exit(cli.ExitError) })
	w.SetContent(container.NewVBox(msg, bar, container.NewHBox(layout.NewSpacer(), quit)))
	w.SetCloseIntercept(func() { os.Exit(cli.ExitError) })
	a.Lifecycle().SetOnStarted(func() {
		go func() {
			r := <-o.done
			fyne.Do(func() { showOpened(a, w, r, c, st, stderr, ui) })
		}()
	})
	w.ShowAndRun()
}

// showOpened replaces the waiting window with the main one, or with the
// reason the library could not open.
func showOpened(a fyne.App, waiting fyne.Window, r opened, c *cli.Common, st startup, stderr io.Writer, ui *poster) {
	if r.err != nil {
		code := cli.Fail(stderr, r.err)
		e := startupErrorWindow(a, startupMessage(c, r.err))
		e.SetOnClosed(func() { os.Exit(code) })
		e.Show()
		waiting.Hide()
		return
	}
	g := startWindow(a, r.s, c, st, stderr, ui)
	g.win.Show()
	waiting.Hide()
	go g.startup(st)
}
