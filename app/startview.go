//go:build !headless

package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/viewer"
)

// measureScroll scrolls the Viewer tab's main view through n slices, one
// at a time, each step waiting until the window has painted the slice, and
// returns the slices painted a second. It runs off the UI goroutine.
func (g *GUI) measureScroll(n int) (float64, error) {
	var v *viewer.ImageView
	fyne.DoAndWait(func() {
		if vs := g.viewer.imageViews(false); len(vs) > 0 {
			v = vs[0]
		}
	})
	if v == nil || v.Frames() < 2 {
		return 0, errors.New("fps: open a volume or a cine first (--open)")
	}
	painted := make(chan int, 256)
	fyne.DoAndWait(func() {
		v.OnDraw = func(f int) {
			select {
			case painted <- f:
			default:
			}
		}
	})
	defer fyne.DoAndWait(func() { v.OnDraw = nil })
	frames := v.Frames()
	start := time.Now()
	for i := 1; i <= n; i++ {
		f := i % frames
		fyne.DoAndWait(func() { v.SetFrame(f) })
		if err := waitPainted(painted, f); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// waitPainted waits until slice f has been drawn.
func waitPainted(painted <-chan int, f int) error {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case got := <-painted:
			if got == f {
				return nil
			}
		case <-timeout:
			return errors.New("fps: the window stopped painting")
		}
	}
}

// startupView performs --open and --fps: it shows the file in the Viewer
// tab through the same job as the library's Open button (the item holding
// the file, or the file itself when no item does), then measures scrolling.
func (g *GUI) startupView(st *startup) error {
	if st.open == "" {
		return nil
	}
	abs, err := filepath.Abs(st.open)
	if err != nil {
		return err
	}
	var openErr error
	fyne.DoAndWait(func() {
		openErr = g.s.StartViewFile(abs, func(l *controller.Loaded, err error) {
			if err != nil {
				openErr = fmt.Errorf("open %s: %w", filepath.Base(abs), err)
			}
			g.showLoaded(l, err)
		})
	})
	g.Wait()
	fyne.DoAndWait(func() { err = openErr }) // after the delivery queued before it
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // the first layout of the view
	if r := []rune(st.preset); len(r) == 1 {
		fyne.DoAndWait(func() {
			if vs := g.viewer.imageViews(false); len(vs) > 0 {
				vs[0].ApplyPreset(r[0])
			}
		})
	}
	if st.fps > 0 {
		fps, err := g.measureScroll(st.fps)
		if err != nil {
			return err
		}
		st.fpsResult = fps
		logf("scrolled %d slices at %.1f frames/s", st.fps, fps)
	}
	return nil
}

// startupPACS performs --pacs and --pacs-pull through the PACS tab's own
// controls: choose the server, search, retrieve a study; it returns once
// the retrieve is under way (its first instances received).
func (g *GUI) startupPACS(st startup) error {
	if st.pacs == "" {
		return nil
	}
	fyne.DoAndWait(func() {
		g.showTab(tabPACS)
		g.pacs.server.SetSelected(st.pacs)
		g.pacs.search()
	})
	g.Wait()
	if st.pacsPull <= 0 {
		return nil
	}
	var err error
	fyne.DoAndWait(func() {
		if st.pacsPull > len(g.pacs.studies) {
			err = fmt.Errorf("--pacs-pull %d: the search found %d studies", st.pacsPull, len(g.pacs.studies))
			return
		}
		g.pacs.list.Select(st.pacsPull - 1)
		g.pacs.retrieve(false)
	})
	for start := time.Now(); err == nil && time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
		var v float64
		fyne.DoAndWait(func() { v = g.progress.Value })
		if v > 0 {
			return nil
		}
	}
	return err
}
