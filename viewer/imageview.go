// Package viewer holds the Fyne widgets of M3Ret Viewer: ImageView (one
// frame of an image, volume or video, with a slice/frame slider and wheel
// scrolling), ThumbGrid (thumbnails with captions, for the library and the
// results) and CompareView (a query beside a neighbour). The windowing maths
// lives in library/media and is tested there; widgets here only draw.
package viewer

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/library/media"
)

// ImageView shows one frame of a sample at a time, fitted to its space,
// with its own auto window. Frames change with the slider or the wheel.
// Use it from the UI goroutine only.
type ImageView struct {
	widget.BaseWidget
	sample  *media.Sample
	frame   int
	img     *canvas.Image
	slider  *widget.Slider
	caption *widget.Label
	// OnFrame, if set, is called after the frame changes.
	OnFrame func(frame int)
}

// NewImageView returns an empty view.
func NewImageView() *ImageView {
	v := &ImageView{img: canvas.NewImageFromImage(nil), caption: widget.NewLabel("")}
	v.img.FillMode = canvas.ImageFillContain
	v.img.ScaleMode = canvas.ImageScaleSmooth
	v.img.SetMinSize(fyne.NewSize(200, 200))
	v.slider = widget.NewSlider(0, 1)
	v.slider.Step = 1
	v.slider.OnChanged = func(f float64) { v.SetFrame(int(f)) }
	v.slider.Hide()
	v.caption.Truncation = fyne.TextTruncateEllipsis
	v.ExtendBaseWidget(v)
	return v
}

// SetSample shows s (its middle frame); nil clears the view.
func (v *ImageView) SetSample(s *media.Sample) {
	v.sample = s
	if s == nil {
		v.img.Image = nil
		v.slider.Hide()
		v.caption.SetText("")
		v.img.Refresh()
		return
	}
	if s.Frames > 1 {
		v.slider.Max = float64(s.Frames - 1)
		v.slider.Show()
	} else {
		v.slider.Hide()
	}
	v.SetFrame(s.Frames / 2)
}

// SetImage shows a plain picture (for example a thumbnail) with no frames.
func (v *ImageView) SetImage(img image.Image) {
	v.sample = nil
	v.slider.Hide()
	v.caption.SetText("")
	v.img.Image = img
	v.img.Refresh()
}

// Sample returns the sample shown, if any.
func (v *ImageView) Sample() *media.Sample { return v.sample }

// Frame returns the frame shown.
func (v *ImageView) Frame() int { return v.frame }

// SetFrame shows frame f (clamped to the sample's range).
func (v *ImageView) SetFrame(f int) {
	s := v.sample
	if s == nil {
		return
	}
	f = max(0, min(s.Frames-1, f))
	changed := f != v.frame
	v.frame = f
	v.img.Image = s.Render(f, s.AutoWindow(f))
	v.img.Refresh()
	if s.Frames > 1 {
		v.caption.SetText(fmt.Sprintf("%s %d / %d", frameWord(s.Kind), f+1, s.Frames))
		if int(v.slider.Value) != f {
			v.slider.SetValue(float64(f))
		}
	} else {
		v.caption.SetText(fmt.Sprintf("%d × %d", s.Width, s.Height))
	}
	if changed && v.OnFrame != nil {
		v.OnFrame(f)
	}
}

func frameWord(k media.Kind) string {
	if k == media.Video {
		return "frame"
	}
	return "slice"
}

// Scrolled steps through frames with the mouse wheel.
func (v *ImageView) Scrolled(e *fyne.ScrollEvent) {
	switch {
	case e.Scrolled.DY > 0:
		v.SetFrame(v.frame - 1)
	case e.Scrolled.DY < 0:
		v.SetFrame(v.frame + 1)
	}
}

// CreateRenderer implements fyne.Widget.
func (v *ImageView) CreateRenderer() fyne.WidgetRenderer {
	bottom := container.NewBorder(nil, nil, nil, nil, container.NewVBox(v.slider, v.caption))
	return widget.NewSimpleRenderer(container.NewBorder(nil, bottom, nil, nil, v.img))
}
