package devtools

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
)

// calibrationPath is where --plot FILE.png draws the vote's calibration:
// FILE-calibration.png.
func calibrationPath(plot string) string {
	base, ext := plot, ".png"
	if i := strings.LastIndex(plot, "."); i > strings.LastIndex(plot, "/") {
		base, ext = plot[:i], plot[i:]
	}
	return base + "-calibration" + ext
}

// unitFrame maps [0, 1]² to pixels.
type unitFrame struct{ left, top, w, h int }

func (f unitFrame) x(v float64) int { return f.left + int(v*float64(f.w)+0.5) }
func (f unitFrame) y(v float64) int { return f.top + f.h - int(v*float64(f.h)+0.5) }

// writeCalibration draws the vote's accuracy against the mean winning
// share of each non-empty bin, with the diagonal of perfect calibration.
func writeCalibration(path string, v *voteReport) error {
	const W, H, left, right, top, bottom = 480, 420, 56, 24, 20, 44
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	f := unitFrame{left, top, W - left - right, H - top - bottom}
	drawUnitAxes(img, f, H)
	line(img, f.x(0), f.y(0), f.x(1), f.y(1), color.RGBA{160, 160, 160, 255})
	col := palette[0]
	px, py := -1, -1
	for _, b := range v.Bins {
		if b.N == 0 {
			continue
		}
		x, y := f.x(b.MeanShare), f.y(b.Accuracy)
		if px >= 0 {
			line(img, px, py, x, y, col)
		}
		dot2(img, x, y, col)
		px, py = x, y
	}
	return savePNG(path, img)
}

func drawUnitAxes(img *image.RGBA, f unitFrame, H int) {
	grey, black := color.RGBA{220, 220, 220, 255}, color.RGBA{0, 0, 0, 255}
	for _, v := range []float64{0, 0.2, 0.4, 0.6, 0.8, 1} {
		line(img, f.left, f.y(v), f.left+f.w, f.y(v), grey)
		s := fmt.Sprintf("%.1f", v)
		text(img, f.left-8-textWidth(s), f.y(v)-5, s, black)
		text(img, f.x(v)-textWidth(s)/2, f.top+f.h+9, s, black)
	}
	line(img, f.left, f.top, f.left, f.top+f.h, black)
	line(img, f.left, f.top+f.h, f.left+f.w, f.top+f.h, black)
	text(img, f.left+f.w/2-textWidth("VOTE SHARE")/2, H-14, "VOTE SHARE", black)
	text(img, 4, 4, "ACCURACY", black)
}

func savePNG(path string, img image.Image) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
