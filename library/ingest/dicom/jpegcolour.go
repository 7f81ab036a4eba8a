package dicom

import "image"

// This file turns a decoded YCbCr JPEG into RGB the way libjpeg (IJG 6b,
// which dcmtk and GDCM decode with) does by default: chroma upsampled by
// its "fancy" triangle filter for 4:2:2 and 4:2:0 (the standard library
// repeats samples, up to 29 levels off at edges), then its fixed-point
// YCbCr to RGB.

// jpegRGB returns pixel-interleaved RGB values of img.
func jpegRGB(img *image.YCbCr) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cb, cr := upsample(img, img.Cb), upsample(img, img.Cr)
	out := make([]float32, 0, 3*w*h)
	for y := range h {
		for x := range w {
			yy := int(img.Y[img.YOffset(b.Min.X+x, b.Min.Y+y)])
			r, g, bl := yccToRGB(yy, int(cb[y*w+x]), int(cr[y*w+x]))
			out = append(out, float32(r), float32(g), float32(bl))
		}
	}
	return out
}

const jpegHalf = 1 << 15 // ONE_HALF for libjpeg's 16 scale bits

func fix(x float64) int { return int(x*65536 + 0.5) }

// yccToRGB is libjpeg's ycc_rgb_convert.
func yccToRGB(y, cb, cr int) (r, g, b int) {
	cb, cr = cb-128, cr-128
	r = y + (fix(1.40200)*cr+jpegHalf)>>16
	g = y + (-fix(0.34414)*cb+jpegHalf-fix(0.71414)*cr)>>16
	b = y + (fix(1.77200)*cb+jpegHalf)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int) int { return min(max(v, 0), 255) }

// upsample returns a chroma plane at full size.
func upsample(img *image.YCbCr, plane []byte) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]byte, w*h)
	cw := (w + 1) / 2
	fancy := cw > 2 // libjpeg's condition for the triangle filter
	for y := range h {
		row := out[y*w : (y+1)*w]
		switch {
		case img.SubsampleRatio == image.YCbCrSubsampleRatio422 && fancy:
			c := chromaRow(img, plane, y)
			h2v1(row, c, c, 4)
		case img.SubsampleRatio == image.YCbCrSubsampleRatio420 && fancy:
			ch := (h + 1) / 2
			near := chromaRow(img, plane, 2*(y/2))
			other := y/2 - 1 // row above for the even row, below for the odd
			if y%2 == 1 {
				other = y/2 + 1
			}
			far := chromaRow(img, plane, 2*min(max(other, 0), ch-1))
			h2v1(row, near, far, 16)
		default:
			for x := range w {
				row[x] = plane[img.COffset(b.Min.X+x, b.Min.Y+y)]
			}
		}
	}
	return out
}

// chromaRow is the chroma row of image row y.
func chromaRow(img *image.YCbCr, plane []byte, y int) []byte {
	b := img.Bounds()
	i := img.COffset(b.Min.X, b.Min.Y+y)
	return plane[i : i+(b.Dx()+1)/2]
}

// h2v1 doubles a row horizontally: libjpeg's h2v1_fancy_upsample (scale
// 4: near only) or h2v2_fancy_upsample (scale 16: columns summed as
// 3 × near + far first). Each output is 3/4 of its own column and 1/4 of
// the next nearest, with libjpeg's roundings; the edge columns count
// themselves as their neighbour.
func h2v1(out, near, far []byte, scale int) {
	n := len(near)
	sum := func(i int) int {
		i = min(max(i, 0), n-1)
		if scale == 4 {
			return int(near[i])
		}
		return 3*int(near[i]) + int(far[i])
	}
	even, odd := 1, 2
	if scale == 16 {
		even, odd = 8, 7
	}
	for i := range n {
		this := 3 * sum(i)
		if 2*i < len(out) {
			out[2*i] = byte((this + sum(i-1) + even) / scale)
		}
		if 2*i+1 < len(out) {
			out[2*i+1] = byte((this + sum(i+1) + odd) / scale)
		}
	}
}
