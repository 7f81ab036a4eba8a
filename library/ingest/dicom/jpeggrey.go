package dicom

import "image"

// greyValues is decodeBaseline's path for a greyscale JPEG (the XA and
// other cine loops): the 256 possible values rescaled once, then read
// row by row from the image's bytes instead of through image.At, which
// cost as much as the decode itself (issue 19, item 4).
func (h *header) greyValues(g *image.Gray) []float32 {
	var lut [256]float32
	for i := range lut {
		lut[i] = h.value(uint32(i))
	}
	b := g.Bounds()
	out := make([]float32, 0, b.Dx()*b.Dy())
	for y := range b.Dy() {
		row := g.Pix[y*g.Stride:][:b.Dx()]
		for _, v := range row {
			out = append(out, lut[v])
		}
	}
	h.invertMono1(out)
	return out
}
