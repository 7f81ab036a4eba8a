//go:build !headless

package app

import (
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
)

// reembedHold, for a script's screenshot, stops a re-embed once half its
// files are done (really embedded and stored: the window shows the state
// of a real run), until released; the run then goes on to its switch.
type reembedHold struct {
	once     sync.Once
	reached  chan struct{}
	released chan struct{}
}

func newReembedHold() *reembedHold {
	return &reembedHold{reached: make(chan struct{}), released: make(chan struct{})}
}

// wrap passes progress to next, and holds the job at the first report at
// or past half way (show gets it first, unthrottled).
func (h *reembedHold) wrap(show, next func(done, total int)) func(done, total int) {
	return func(done, total int) {
		next(done, total)
		if done < total && 2*done >= total {
			h.once.Do(func() {
				show(done, total)
				close(h.reached)
				<-h.released
			})
		}
	}
}

// startupModels opens Settings → Models (--models) and, with --use-model,
// moves the library to that model without asking; for a script (a ready
// file) the re-embed is held half way until the screenshot is taken (see
// afterScreenshot).
func (g *GUI) startupModels(st startup) error {
	if !st.models && st.useModel == "" {
		return nil
	}
	fyne.DoAndWait(g.showModels)
	if st.useModel == "" {
		return nil
	}
	all, _ := cli.ModelsFor(g.s.Library().Dir())
	m, ok := cli.FindModelIn(all, st.useModel)
	if !ok {
		return fmt.Errorf("--use-model %s: no such model (m3ret model list)", st.useModel)
	}
	var hold *reembedHold
	if st.scripted() {
		hold = newReembedHold()
	}
	fyne.DoAndWait(func() {
		g.models.hold = hold
		g.models.startUse(m)
	})
	if hold == nil {
		return nil
	}
	for start := time.Now(); time.Since(start) < 5*time.Minute; time.Sleep(20 * time.Millisecond) {
		select {
		case <-hold.reached:
			return nil
		default:
		}
		if !g.s.Running(controller.Reindex) {
			return fmt.Errorf("--use-model %s: the re-embed ended before half way (%s)", st.useModel, g.models.note.Text)
		}
	}
	return fmt.Errorf("--use-model %s: not half way after 5 minutes", st.useModel)
}

// modelsSummary says what the models dialog shows, for the ready file.
func (g *GUI) modelsSummary() string {
	v := g.models
	if v == nil {
		return ""
	}
	s := fmt.Sprintf("models=%d listed, %s in use\n", len(v.rows), v.nameOf(g.s.Library().ModelID()))
	if v.target != "" {
		s += fmt.Sprintf("reembed=%s, %d of %d files, bar %.2f\n", v.nameOf(v.target), v.done, v.total, v.bar.Value)
	}
	return s
}

// afterScreenshot lets a held re-embed finish once the script has its
// screenshot, and says on stderr how it ended.
func (g *GUI) afterScreenshot() error {
	if g.models == nil || g.models.hold == nil {
		return nil
	}
	close(g.models.hold.released)
	g.Wait()
	var msg string
	fyne.DoAndWait(func() { msg = g.models.note.Text })
	fmt.Fprintf(g.stderr, "m3ret: %s\n", msg)
	return nil
}
