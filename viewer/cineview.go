package viewer

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/media"
)

// CineView plays a video or a multi-frame series: play/pause (Space),
// frame rate, loop, and frame step (the buttons, ← and →). The frames are
// drawn by an ImageView, so windowing, zoom and pan work while it plays.
// The clock runs on its own goroutine and hands each tick to the UI
// goroutine, never more than one at a time. Use it from the UI goroutine
// only.
type CineView struct {
	widget.BaseWidget
	View  *ImageView
	play  *widget.Button
	rate  *widget.Select
	loop  *widget.Check
	about *widget.Label
	fps   float64
	// List is the side panel of the measurements (each on its frame).
	List *MeasureList

	mu      sync.Mutex
	stop    chan struct{} // closed to stop the clock; nil when paused
	pending atomic.Bool   // a tick waits for the UI goroutine
}

// Frame rates offered besides the source's.
var cineRates = []string{"5", "10", "15", "20", "25", "30", "50", "60"}

// NewCineView returns an empty player.
func NewCineView() *CineView {
	c := &CineView{View: NewImageView(), fps: 15}
	c.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), c.Toggle)
	c.rate = widget.NewSelect(cineRates, func(s string) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			c.SetRate(f)
		}
	})
	c.loop = widget.NewCheck("Loop", nil)
	c.loop.SetChecked(true)
	c.about = widget.NewLabel("")
	c.about.Truncation = fyne.TextTruncateEllipsis
	c.View.OnKey = c.key
	c.List = NewMeasureList("Measurements")
	c.List.HideEmpty = true
	c.List.Follow(c.View)
	c.ExtendBaseWidget(c)
	return c
}

// SetSample shows the first frame of s, paused, at the rate of the source
// (real time, also when the sample holds fewer frames than the source).
func (c *CineView) SetSample(s *media.Sample) {
	c.Pause()
	c.View.SetSample(s)
	c.View.SetFrame(0)
	if s == nil {
		c.about.SetText("")
		return
	}
	c.SetRate(playbackRate(s))
	src := "frame time unknown"
	if s.FrameTime > 0 {
		src = fmt.Sprintf("source %.3g fps", 1000/s.FrameTime)
	}
	if s.TotalFrames() > s.Frames {
		src += fmt.Sprintf(" · %d of %d frames", s.Frames, s.TotalFrames())
	}
	c.about.SetText(src)
}

// playbackRate is the rate that plays the frames held in real time.
func playbackRate(s *media.Sample) float64 {
	if s.FrameTime <= 0 {
		return 15
	}
	f := 1000 / s.FrameTime * float64(s.Frames) / float64(s.TotalFrames())
	return max(1, min(60, f))
}

// Rate is the playback rate in frames a second.
func (c *CineView) Rate() float64 { return c.fps }

// SetRate sets the playback rate (1-60 frames a second).
func (c *CineView) SetRate(fps float64) {
	fps = max(1, min(60, fps))
	if fps == c.fps && c.rate.Selected != "" {
		return
	}
	c.fps = fps
	label := strconv.FormatFloat(fps, 'f', -1, 64)
	if fps != float64(int(fps)) {
		label = fmt.Sprintf("%.1f", fps)
	}
	if !slices.Contains(c.rate.Options, label) { // the source's own rate
		c.rate.Options = append(slices.Clone(cineRates), label)
		slices.SortFunc(c.rate.Options, func(a, b string) int {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			return cmp.Compare(x, y)
		})
	}
	if c.rate.Selected != label {
		c.rate.SetSelected(label)
	}
	if c.Playing() {
		c.Pause()
		c.Play()
	}
}

// Playing tells whether the clock runs.
func (c *CineView) Playing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stop != nil
}

// Toggle plays or pauses.
func (c *CineView) Toggle() {
	if c.Playing() {
		c.Pause()
	} else {
		c.Play()
	}
}

// Play starts the clock.
func (c *CineView) Play() {
	if c.View.Frames() <= 1 {
		return
	}
	c.mu.Lock()
	if c.stop != nil {
		c.mu.Unlock()
		return
	}
	stop := make(chan struct{})
	c.stop = stop
	c.mu.Unlock()
	c.play.SetIcon(theme.MediaPauseIcon())
	if c.View.Frame() == c.View.Frames()-1 {
		c.View.SetFrame(0)
	}
	go c.clock(time.Duration(float64(time.Second)/c.fps), stop)
}

// clock hands ticks to the UI goroutine until stop is closed; a tick the UI
// has not taken yet is dropped, not queued.
func (c *CineView) clock(every time.Duration, stop chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if c.pending.Swap(true) {
				continue
			}
			fyne.Do(func() {
				c.pending.Store(false)
				select {
				case <-stop:
				default:
					c.tick()
				}
			})
		}
	}
}

// tick shows the next frame, wrapping when looping, else pausing at the end.
func (c *CineView) tick() {
	f := c.View.Frame() + 1
	if f >= c.View.Frames() {
		if !c.loop.Checked {
			c.Pause()
			return
		}
		f = 0
	}
	c.View.SetFrame(f)
}

// Pause stops the clock.
func (c *CineView) Pause() {
	c.mu.Lock()
	if c.stop != nil {
		close(c.stop)
		c.stop = nil
	}
	c.mu.Unlock()
	c.play.SetIcon(theme.MediaPlayIcon())
}

// Step pauses and moves by d frames (wrapping when looping).
func (c *CineView) Step(d int) {
	c.Pause()
	n := c.View.Frames()
	if n == 0 {
		return
	}
	f := c.View.Frame() + d
	if c.loop.Checked {
		f = (f%n + n) % n
	}
	c.View.SetFrame(f)
}

// SetLoop turns looping on or off.
func (c *CineView) SetLoop(on bool) { c.loop.SetChecked(on) }

func (c *CineView) key(e *fyne.KeyEvent) bool {
	switch e.Name {
	case fyne.KeySpace:
		c.Toggle()
	case fyne.KeyLeft:
		c.Step(-1)
	case fyne.KeyRight:
		c.Step(1)
	default:
		return false
	}
	return true
}

// CreateRenderer implements fyne.Widget.
func (c *CineView) CreateRenderer() fyne.WidgetRenderer {
	back := widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), func() { c.Step(-1) })
	fwd := widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), func() { c.Step(1) })
	bar := container.NewHBox(back, c.play, fwd, widget.NewLabel("fps"), c.rate, c.loop)
	return widget.NewSimpleRenderer(container.NewBorder(nil, container.NewBorder(nil, nil, bar, nil, c.about), nil, c.List, c.View))
}
