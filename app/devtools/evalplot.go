package devtools

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"strings"
)

// curve is one model's precision@1..k, as drawn by writePlot.
type curve struct {
	name string
	p    []float64
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// readCurves reads the precision@k curves of earlier `m3ret eval --json`
// reports, for --plot-with.
func readCurves(paths []string) ([]curve, error) {
	var out []curve
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("plot-with: %w", err)
		}
		var r evalReport
		if err := json.Unmarshal(b, &r); err != nil || len(r.PrecisionAt) == 0 {
			return nil, fmt.Errorf("plot-with %s: not an `m3ret eval --json` report", p)
		}
		out = append(out, curve{modelName(r.Model), r.PrecisionAt})
	}
	return out, nil
}

// modelName is a model id without its version and digest ("baseline@1-0411…"
// -> "baseline").
func modelName(id string) string {
	if i := strings.IndexByte(id, '@'); i > 0 {
		return id[:i]
	}
	return id
}

var palette = []color.RGBA{
	{31, 90, 180, 255}, {220, 110, 20, 255}, {40, 150, 60, 255},
	{200, 40, 40, 255}, {130, 70, 170, 255}, {110, 110, 110, 255},
}

// plotFrame maps k and precision to pixels.
type plotFrame struct{ left, top, w, h, n int }

func (f plotFrame) x(k int) int {
	if f.n == 1 {
		return f.left + f.w/2
	}
	return f.left + (k-1)*f.w/(f.n-1)
}

func (f plotFrame) y(v float64) int { return f.top + f.h - int(v*float64(f.h)+0.5) }

// writePlot draws precision@k (k = 1..n) of one or more models as a PNG:
// axes, ticks with numbers and grid lines at 0.25 steps (a built-in 3x5
// font), each curve with its points in its own colour, and a legend with
// the model names. Standard library only.
func writePlot(path string, curves []curve) error {
	const W, H, left, right, top, bottom = 640, 400, 56, 24, 20, 44
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	n := 0
	for _, c := range curves {
		n = max(n, len(c.p))
	}
	f := plotFrame{left, top, W - left - right, H - top - bottom, max(1, n)}
	drawAxes(img, f, H)
	for i, c := range curves {
		col := palette[i%len(palette)]
		for k := 1; k < len(c.p); k++ {
			line(img, f.x(k), f.y(c.p[k-1]), f.x(k+1), f.y(c.p[k]), col)
		}
		for k := 1; k <= len(c.p); k++ {
			dot2(img, f.x(k), f.y(c.p[k-1]), col)
		}
		if len(curves) > 1 || c.name != "" {
			y := H - bottom - 20 - 14*(len(curves)-1-i)
			x := left + 12
			line(img, x, y+4, x+16, y+4, col)
			dot2(img, x+8, y+4, col)
			text(img, x+22, y, strings.ToUpper(c.name), color.RGBA{0, 0, 0, 255})
		}
	}
	return savePNG(path, img)
}

func drawAxes(img *image.RGBA, f plotFrame, H int) {
	grey, black := color.RGBA{220, 220, 220, 255}, color.RGBA{0, 0, 0, 255}
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		y := f.y(v)
		line(img, f.left, y, f.left+f.w, y, grey)
		line(img, f.left-5, y, f.left, y, black)
		s := fmt.Sprintf("%.2f", v)
		text(img, f.left-8-textWidth(s), y-5, s, black)
	}
	line(img, f.left, f.top, f.left, f.top+f.h, black)
	line(img, f.left, f.top+f.h, f.left+f.w, f.top+f.h, black)
	step := max(1, f.n/10)
	for k := 1; k <= f.n; k++ {
		if k == 1 || k%step == 0 {
			x := f.x(k)
			line(img, x, f.top+f.h, x, f.top+f.h+5, black)
			s := fmt.Sprint(k)
			text(img, x-textWidth(s)/2, f.top+f.h+9, s, black)
		}
	}
	text(img, f.left+f.w/2-textWidth("K")/2, H-14, "K", black)
	text(img, f.left-textWidth("P")/2, 4, "P", black)
}

// dot2 draws a 5x5 point.
func dot2(img *image.RGBA, x, y int, c color.RGBA) {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			img.SetRGBA(x+dx, y+dy, c)
		}
	}
}

// line draws a 1-pixel line (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// glyphs is a 3x5 pixel font for the plot's numbers, axis letters and
// legend; each row is 3 bits, most significant on the left. Unknown runes
// draw as blanks.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, '.': {0, 0, 0, 0, 2}, '-': {0, 0, 7, 0, 0},
	'+': {0, 2, 7, 2, 0}, '_': {0, 0, 0, 0, 7}, '/': {1, 1, 2, 4, 4},
	'A': {2, 5, 7, 5, 5}, 'B': {6, 5, 6, 5, 6}, 'C': {7, 4, 4, 4, 7}, 'D': {6, 5, 5, 5, 6},
	'E': {7, 4, 6, 4, 7}, 'F': {7, 4, 6, 4, 4}, 'G': {7, 4, 5, 5, 7}, 'H': {5, 5, 7, 5, 5},
	'I': {7, 2, 2, 2, 7}, 'J': {1, 1, 1, 5, 7}, 'K': {5, 5, 6, 5, 5}, 'L': {4, 4, 4, 4, 7},
	'M': {5, 7, 7, 5, 5}, 'N': {6, 5, 5, 5, 5}, 'O': {7, 5, 5, 5, 7}, 'P': {7, 5, 7, 4, 4},
	'Q': {7, 5, 5, 7, 1}, 'R': {6, 5, 6, 5, 5}, 'S': {7, 4, 7, 1, 7}, 'T': {7, 2, 2, 2, 2},
	'U': {5, 5, 5, 5, 7}, 'V': {5, 5, 5, 5, 2}, 'W': {5, 5, 7, 7, 5}, 'X': {5, 5, 2, 5, 5},
	'Y': {5, 5, 2, 2, 2}, 'Z': {7, 1, 2, 4, 7},
}

const glyphScale = 2

func textWidth(s string) int { return len(s) * 4 * glyphScale }

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for i, r := range s {
		g := glyphs[r]
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row]&(4>>col) == 0 {
					continue
				}
				for sy := 0; sy < glyphScale; sy++ {
					for sx := 0; sx < glyphScale; sx++ {
						img.SetRGBA(x+(i*4+col)*glyphScale+sx, y+row*glyphScale+sy, c)
					}
				}
			}
		}
	}
}
