package viewer

import (
	"image"
	"math"
)

// viewport maps between screen pixels and slice pixels: the slice is shown
// at its physical aspect (pixel spacing), fitted to the screen at zoom 1,
// and moved by pan.
type viewport struct {
	sw, sh     int     // screen size, pixels
	iw, ih     int     // slice size, pixels
	dx, dy     float64 // slice pixel size, mm
	zoom       float64 // 1 fits the slice to the screen
	panX, panY float64 // slice centre from screen centre, screen pixels
}

// fit is the scale (screen pixels per mm) that shows the whole slice.
func (vp viewport) fit() float64 {
	if vp.iw == 0 || vp.ih == 0 {
		return 1
	}
	return math.Min(float64(vp.sw)/(float64(vp.iw)*vp.dx), float64(vp.sh)/(float64(vp.ih)*vp.dy))
}

// scale is screen pixels per mm.
func (vp viewport) scale() float64 { return vp.fit() * vp.zoom }

// oneToOne is the zoom that shows one slice pixel (across) per screen pixel.
func (vp viewport) oneToOne() float64 { return 1 / (vp.dx * vp.fit()) }

// toImage maps a screen point to slice coordinates (pixels, fractional).
func (vp viewport) toImage(X, Y float64) (x, y float64) {
	s := vp.scale()
	x = (X-float64(vp.sw)/2-vp.panX)/(s*vp.dx) + float64(vp.iw)/2
	y = (Y-float64(vp.sh)/2-vp.panY)/(s*vp.dy) + float64(vp.ih)/2
	return x, y
}

// toScreen maps slice coordinates to a screen point.
func (vp viewport) toScreen(x, y float64) (X, Y float64) {
	s := vp.scale()
	X = (x-float64(vp.iw)/2)*s*vp.dx + float64(vp.sw)/2 + vp.panX
	Y = (y-float64(vp.ih)/2)*s*vp.dy + float64(vp.sh)/2 + vp.panY
	return X, Y
}

// canvasBuf is the reusable memory of one view's drawing: the screen image
// and the slice column of every screen column.
type canvasBuf struct {
	img  *image.RGBA
	cols []int32
}

// target returns a black, opaque w×h image, reusing the last one when the
// size has not changed.
func (c *canvasBuf) target(w, h int) *image.RGBA {
	if c.img == nil || c.img.Rect.Dx() != w || c.img.Rect.Dy() != h {
		c.img = image.NewRGBA(image.Rect(0, 0, w, h))
		c.cols = make([]int32, w)
	}
	return c.img
}

// draw renders a slice (iw*ih*ch values) through table t into the target,
// nearest neighbour, black outside the slice. It allocates nothing once the
// buffers exist.
func (c *canvasBuf) draw(vals []float32, ch int, vp viewport, t *Table) *image.RGBA {
	dst := c.target(vp.sw, vp.sh)
	for X := range c.cols {
		x, _ := vp.toImage(float64(X)+0.5, 0)
		c.cols[X] = -1
		if x >= 0 && x < float64(vp.iw) {
			c.cols[X] = int32(x)
		}
	}
	for Y := 0; Y < vp.sh; Y++ {
		row := dst.Pix[Y*dst.Stride : Y*dst.Stride+4*vp.sw]
		_, y := vp.toImage(0, float64(Y)+0.5)
		if y < 0 || y >= float64(vp.ih) {
			clear(row)
			opaque(row)
			continue
		}
		src := vals[int(y)*vp.iw*ch : (int(y)+1)*vp.iw*ch]
		if ch == 1 {
			drawGreyRow(row, src, c.cols, t)
		} else {
			drawRGBRow(row, src, c.cols, t)
		}
	}
	return dst
}

func opaque(row []uint8) {
	for i := 3; i < len(row); i += 4 {
		row[i] = 255
	}
}

// drawGreyRow is the inner loop: one table lookup per screen pixel.
func drawGreyRow(row []uint8, src []float32, cols []int32, t *Table) {
	lo, k, top, grey := t.lo, t.k, t.top, t.grey
	last := grey[len(grey)-1]
	for X, x := range cols {
		p := row[4*X : 4*X+4 : 4*X+4]
		if x < 0 {
			p[0], p[1], p[2], p[3] = 0, 0, 0, 255
			continue
		}
		f := (src[x] - lo) * k
		g := grey[0]
		if f >= top {
			g = last
		} else if f > 0 {
			g = grey[int32(f)]
		}
		p[0], p[1], p[2], p[3] = g, g, g, 255
	}
}

func drawRGBRow(row []uint8, src []float32, cols []int32, t *Table) {
	for X, x := range cols {
		p := row[4*X : 4*X+4 : 4*X+4]
		if x < 0 {
			p[0], p[1], p[2], p[3] = 0, 0, 0, 255
			continue
		}
		q := src[3*x : 3*x+3 : 3*x+3]
		p[0], p[1], p[2], p[3] = t.Grey(q[0]), t.Grey(q[1]), t.Grey(q[2]), 255
	}
}
