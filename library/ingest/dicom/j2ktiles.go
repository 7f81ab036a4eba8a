package dicom

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// This file splits a JPEG 2000 codestream of several tiles into one
// codestream per tile. The codec decodes a tile whose origin is not the
// reference grid's origin wrong, with no error (every tile but the first
// of a tiled image): each tile is decoded alone, as the only tile of a
// codestream whose image is the tile moved to the origin, and put in
// place. The move keeps the decode exact when the tile's origin is a
// multiple of 2^levels and each code-block and precinct partition stays
// the same (cells aligned with the origin, or a single cell), which holds
// for the usual power-of-two tiles; other tilings are refused as
// unsupported.

// j2kMarker is a marker segment of the main header: offset and length
// of the whole segment (marker included).
type j2kMarker struct{ off, n int }

// j2kTiles is a codestream cut into its main header and tile-parts.
type j2kTiles struct {
	cs    []byte
	siz   j2kMarker
	main  []j2kMarker      // main header segments after SIZ, TLM left out
	parts map[int][][]byte // tile-parts of each tile, in codestream order
	order []int            // tile indexes in order of first appearance
	ppm   bool
}

const (
	j2kSOT = 0xFF90
	j2kSOD = 0x93
	j2kEOC = 0xFFD9
	j2kTLM = 0xFF55
	j2kPPM = 0xFF60
)

// cutJ2K reads the main header and the tile-parts (following each SOT's
// Psot, 0 meaning up to the end of the codestream).
func cutJ2K(cs []byte) (*j2kTiles, error) {
	be := binary.BigEndian
	c := &j2kTiles{cs: cs, parts: map[int][][]byte{}}
	i := 2 // after SOC
	for i+4 <= len(cs) && be.Uint16(cs[i:]) != j2kSOT {
		m, n := be.Uint16(cs[i:]), 2+int(be.Uint16(cs[i+2:]))
		if m>>8 != 0xFF || n < 4 || i+n > len(cs) {
			return nil, fmt.Errorf("%w: JPEG 2000 main header marker at %d", ErrCodestream, i)
		}
		switch {
		case m == 0xFF51:
			c.siz = j2kMarker{i, n}
		case m == j2kPPM:
			c.ppm = true
		case m != j2kTLM: // tile-part lengths: wrong once tiles are apart
			c.main = append(c.main, j2kMarker{i, n})
		}
		i += n
	}
	if c.siz.n < 41 {
		return nil, fmt.Errorf("%w: no JPEG 2000 SIZ marker", ErrCodestream)
	}
	for i+12 <= len(cs) && be.Uint16(cs[i:]) == j2kSOT {
		tile, psot := int(be.Uint16(cs[i+4:])), int(be.Uint32(cs[i+6:]))
		if psot == 0 {
			psot = len(cs) - i
			if be.Uint16(cs[len(cs)-2:]) == j2kEOC {
				psot -= 2
			}
		}
		if psot < 14 || i+psot > len(cs) {
			return nil, fmt.Errorf("%w: JPEG 2000 tile-part length %d at %d", ErrCodestream, psot, i)
		}
		if _, ok := c.parts[tile]; !ok {
			c.order = append(c.order, tile)
		}
		c.parts[tile] = append(c.parts[tile], cs[i:i+psot])
		i += psot
	}
	return c, nil
}

// j2kGrid is the SIZ marker's image and tile grid.
type j2kGrid struct {
	x1, y1, x0, y0, tw, th, tx0, ty0 int
}

func (c *j2kTiles) grid() j2kGrid {
	s := c.cs[c.siz.off:]
	u := func(off int) int { return int(binary.BigEndian.Uint32(s[off:])) }
	return j2kGrid{u(6), u(10), u(14), u(18), u(22), u(26), u(30), u(34)}
}

// tileRect is tile t's area on the reference grid.
func (g j2kGrid) tileRect(t int) (x0, y0, x1, y1 int) {
	across := (g.x1 - g.tx0 + g.tw - 1) / g.tw
	px, py := t%across, t/across
	x0, y0 = max(g.tx0+px*g.tw, g.x0), max(g.ty0+py*g.th, g.y0)
	x1, y1 = min(g.tx0+(px+1)*g.tw, g.x1), min(g.ty0+(py+1)*g.th, g.y1)
	return x0, y0, x1, y1
}

// single is the codestream of tile t alone, moved to the origin.
func (c *j2kTiles) single(t int) []byte {
	be := binary.BigEndian
	x0, y0, x1, y1 := c.grid().tileRect(t)
	out := []byte{0xFF, 0x4F}
	siz := slices.Clone(c.cs[c.siz.off : c.siz.off+c.siz.n])
	w, ht := x1-x0, y1-y0
	for k, v := range []int{w, ht, 0, 0, w, ht, 0, 0} {
		be.PutUint32(siz[6+4*k:], uint32(v))
	}
	out = append(out, siz...)
	for _, m := range c.main {
		out = append(out, c.cs[m.off:m.off+m.n]...)
	}
	for _, p := range c.parts[t] {
		start := len(out)
		out = append(out, p...)
		be.PutUint16(out[start+4:], 0) // Isot: the only tile
		be.PutUint32(out[start+6:], uint32(len(p)))
	}
	return be.AppendUint16(out, j2kEOC)
}

// checkSplittable refuses what splitting does not handle: packed packet
// headers of the main header (PPM), subsampled components.
func (c *j2kTiles) checkSplittable() error {
	if c.ppm {
		return fmt.Errorf("JPEG 2000 with %d tiles and packed packet headers (PPM): %w", len(c.order), ErrUnsupportedSyntax)
	}
	s := c.cs[c.siz.off : c.siz.off+c.siz.n]
	comps := int(binary.BigEndian.Uint16(s[38:]))
	if len(s) < 40+3*comps {
		return fmt.Errorf("%w: JPEG 2000 SIZ marker is short", ErrCodestream)
	}
	for k := range comps {
		if s[41+3*k] != 1 || s[42+3*k] != 1 {
			return fmt.Errorf("JPEG 2000 with %d tiles and subsampled components: %w", len(c.order), ErrUnsupportedSyntax)
		}
	}
	styles, ok := c.styles()
	if !ok {
		return fmt.Errorf("%w: JPEG 2000 coding style marker", ErrCodestream)
	}
	g := c.grid()
	for _, t := range c.order {
		x0, y0, x1, y1 := g.tileRect(t)
		for _, st := range styles {
			if !movable(x0, x1-x0, st.levels, st.xcb, st.ppx) || !movable(y0, y1-y0, st.levels, st.ycb, st.ppy) {
				return fmt.Errorf("JPEG 2000 tile %d at %d,%d (%dx%d tiles) not aligned to its code-blocks and precincts: %w",
					t, x0, y0, g.tw, g.th, ErrUnsupportedSyntax)
			}
		}
	}
	return nil
}

// j2kStyle is what the partitions depend on: decomposition levels,
// code-block size exponents, precinct size exponents per resolution.
type j2kStyle struct {
	levels, xcb, ycb int
	ppx, ppy         []int
}

// parseStyle reads SPcod/SPcoc at sp (Scod or Scoc at sp-1 or earlier:
// custom precincts when flag bit 0 is set).
func parseStyle(seg []byte, sp int, custom bool) (j2kStyle, bool) {
	if len(seg) < sp+5 {
		return j2kStyle{}, false
	}
	st := j2kStyle{levels: int(seg[sp]), xcb: int(seg[sp+1]) + 2, ycb: int(seg[sp+2]) + 2}
	for r := range st.levels + 1 {
		x, y := 15, 15
		if custom {
			if len(seg) <= sp+5+r {
				return j2kStyle{}, false
			}
			x, y = int(seg[sp+5+r]&0x0F), int(seg[sp+5+r]>>4)
		}
		st.ppx, st.ppy = append(st.ppx, x), append(st.ppy, y)
	}
	return st, true
}

// styles returns the coding styles (COD and COC) of the main header and of
// each tile's first tile-part header.
func (c *j2kTiles) styles() ([]j2kStyle, bool) {
	comps := int(binary.BigEndian.Uint16(c.cs[c.siz.off+38:]))
	var segs [][]byte
	for _, m := range c.main {
		segs = append(segs, c.cs[m.off:m.off+m.n])
	}
	for _, parts := range c.parts {
		segs = append(segs, tilePartMarkers(parts[0])...)
	}
	var out []j2kStyle
	for _, seg := range segs {
		var st j2kStyle
		ok := true
		switch binary.BigEndian.Uint16(seg) {
		case 0xFF52: // COD: Scod at 4, SPcod at 9
			st, ok = parseStyle(seg, 9, len(seg) > 4 && seg[4]&1 != 0)
		case 0xFF53: // COC: Ccoc (1 or 2 bytes), Scoc, SPcoc
			at := 5
			if comps >= 257 {
				at = 6
			}
			st, ok = parseStyle(seg, at+1, len(seg) > at && seg[at]&1 != 0)
		default:
			continue
		}
		if !ok {
			return nil, false
		}
		out = append(out, st)
	}
	return out, len(out) > 0
}

// tilePartMarkers are the marker segments of a tile-part header.
func tilePartMarkers(p []byte) [][]byte {
	var out [][]byte
	for i := 12; i+4 <= len(p) && p[i] == 0xFF && p[i+1] != j2kSOD; {
		n := 2 + int(binary.BigEndian.Uint16(p[i+2:]))
		if i+n > len(p) {
			break
		}
		out = append(out, p[i:i+n])
		i += n
	}
	return out
}

// movable reports whether a tile at origin o and n long (one axis) decodes
// the same moved to the origin: o a multiple of 2^levels, and at each
// resolution the precinct and code-block partitions unchanged.
func movable(o, n, levels, cb int, pp []int) bool {
	if o%(1<<levels) != 0 {
		return false
	}
	same := func(o, n, size int) bool { return o%size == 0 || o/size == (o+n-1)/size }
	for r := range levels + 1 {
		d := levels - r // the resolution's decomposition level
		band := d + 1   // its bands' level
		if r == 0 {
			band = levels
		}
		blk := min(cb, pp[r])
		if r > 0 {
			blk = min(cb, pp[r]-1)
		}
		if !same(o>>d, (n+(1<<d)-1)>>d, 1<<pp[r]) || !same(o>>band, (n+(1<<band)-1)>>band, 1<<blk) {
			return false
		}
	}
	return true
}
