package nifti

import "math"

// affine maps voxel indices (i, j, k, 1) to world millimetres in the NIfTI
// RAS+ frame (+x right, +y anterior, +z superior); each row is [R | t].
type affine [3][4]float64

// affine returns the header's voxel-to-world transform: the sform when
// sform_code > 0, else the qform when qform_code > 0, else the voxel sizes
// alone (NIfTI method 1; Analyze files, stored the radiological way, get x
// flipped as nibabel does).
func (h *header) affine() affine {
	if h.sformCode > 0 && finite(h.srow) {
		return affine(h.srow)
	}
	if h.qformCode > 0 {
		return h.qform()
	}
	z := h.zooms()
	a := affine{{z[0], 0, 0, 0}, {0, z[1], 0, 0}, {0, 0, z[2], 0}}
	if h.version == 0 {
		a[0][0] = -z[0]
	}
	return a
}

// zooms are the absolute voxel sizes from pixdim, 1 where unset.
func (h *header) zooms() [3]float64 {
	var z [3]float64
	for i := range z {
		z[i] = math.Abs(h.pixdim[i+1])
		if z[i] == 0 || bad(z[i]) {
			z[i] = 1
		}
	}
	return z
}

// qform builds the transform from the quaternion, pixdim and qoffset
// (NIfTI method 2).
func (h *header) qform() affine {
	b, c, d := h.quatern[0], h.quatern[1], h.quatern[2]
	a := 1 - (b*b + c*c + d*d)
	if a < 1e-7 {
		// The quaternion is a 180° rotation: renormalise b, c, d.
		n := math.Sqrt(b*b + c*c + d*d)
		if n > 0 {
			b, c, d = b/n, c/n, d/n
		}
		a = 0
	} else {
		a = math.Sqrt(a)
	}
	r := [3][3]float64{
		{a*a + b*b - c*c - d*d, 2*b*c - 2*a*d, 2*b*d + 2*a*c},
		{2*b*c + 2*a*d, a*a + c*c - b*b - d*d, 2*c*d - 2*a*b},
		{2*b*d - 2*a*c, 2*c*d + 2*a*b, a*a + d*d - c*c - b*b},
	}
	z := h.zooms()
	if h.pixdim[0] < 0 {
		z[2] = -z[2]
	}
	var m affine
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			m[i][j] = r[i][j] * z[j]
		}
		m[i][3] = h.qoffset[i]
	}
	return m
}

func finite(m [3][4]float64) bool {
	any := false
	for _, row := range m {
		for j, v := range row {
			if bad(v) {
				return false
			}
			any = any || (j < 3 && v != 0)
		}
	}
	return any
}

// columnNorms are the voxel sizes the transform implies.
func (a affine) columnNorms() [3]float64 {
	var z [3]float64
	for j := 0; j < 3; j++ {
		z[j] = math.Sqrt(a[0][j]*a[0][j] + a[1][j]*a[1][j] + a[2][j]*a[2][j])
	}
	return z
}

// axis says which world axis (0 R-L, 1 A-P, 2 S-I) a voxel axis runs along
// most closely, and whether it runs towards the positive end (R, A, S).
type axis struct {
	world int
	sign  int
}

// orientation returns the closest world axis of each voxel axis, choosing
// as nibabel's io_orientation does: the orthogonal (polar) factor of the
// direction matrix, then for voxel axes in order the largest component among
// world axes not yet taken.
func (a affine) orientation() [3]axis {
	var rs [3][3]float64
	z := a.columnNorms()
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			if z[j] > 0 {
				rs[i][j] = a[i][j] / z[j]
			}
		}
	}
	r := polar(rs)
	var out [3]axis
	used := [3]bool{}
	done := [3]bool{}
	for j := 0; j < 3; j++ {
		best, bestAbs := -1, 1e-9
		for i := 0; i < 3; i++ {
			if !used[i] && math.Abs(r[i][j]) > bestAbs {
				best, bestAbs = i, math.Abs(r[i][j])
			}
		}
		if best < 0 {
			continue
		}
		out[j], used[best], done[j] = axis{best, 1}, true, true
		if r[best][j] < 0 {
			out[j].sign = -1
		}
	}
	// Degenerate axes (a zero column) take the world axes left, in order.
	for j := 0; j < 3; j++ {
		for i := 0; i < 3 && !done[j]; i++ {
			if !used[i] {
				out[j], used[i], done[j] = axis{i, 1}, true, true
			}
		}
	}
	return out
}

// polar returns the closest orthogonal matrix to m by Newton's iteration
// X ← (X + X⁻ᵀ)/2, or m itself when it is singular.
func polar(m [3][3]float64) [3][3]float64 {
	x := m
	for it := 0; it < 50; it++ {
		inv, ok := inverse(x)
		if !ok {
			return m
		}
		var next [3][3]float64
		diff := 0.0
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				next[i][j] = (x[i][j] + inv[j][i]) / 2
				diff += math.Abs(next[i][j] - x[i][j])
			}
		}
		x = next
		if diff < 1e-13 {
			break
		}
	}
	return x
}

func inverse(m [3][3]float64) ([3][3]float64, bool) {
	c := [3][3]float64{
		{m[1][1]*m[2][2] - m[1][2]*m[2][1], m[0][2]*m[2][1] - m[0][1]*m[2][2], m[0][1]*m[1][2] - m[0][2]*m[1][1]},
		{m[1][2]*m[2][0] - m[1][0]*m[2][2], m[0][0]*m[2][2] - m[0][2]*m[2][0], m[0][2]*m[1][0] - m[0][0]*m[1][2]},
		{m[1][0]*m[2][1] - m[1][1]*m[2][0], m[0][1]*m[2][0] - m[0][0]*m[2][1], m[0][0]*m[1][1] - m[0][1]*m[1][0]},
	}
	det := m[0][0]*c[0][0] + m[0][1]*c[1][0] + m[0][2]*c[2][0]
	if math.Abs(det) < 1e-12 || bad(det) {
		return c, false
	}
	for i := range c {
		for j := range c[i] {
			c[i][j] /= det
		}
	}
	return c, true
}
