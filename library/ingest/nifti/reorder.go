package nifti

// view is the display layout a volume is reordered to: for each display
// axis (x, y, frames), the world axis it runs along and towards which end.
type view struct {
	axes [3]axis
	name string // the patient directions of +x, +y, +frames
}

// The display layouts, chosen by the world axis of the slice normal.
var (
	// axial: x to the patient's left (radiological), y to the back, frames
	// feet to head.
	axialView = view{[3]axis{{0, -1}, {1, -1}, {2, 1}}, "LPS"}
	// coronal (one slice): x to the left, y downwards, seen from the front.
	coronalView = view{[3]axis{{0, -1}, {2, -1}, {1, -1}}, "LIP"}
	// sagittal (one slice): x to the back, y downwards, seen from the left.
	sagittalView = view{[3]axis{{1, -1}, {2, -1}, {0, -1}}, "PIL"}
)

// viewFor picks the layout: axial for volumes; for a single slice (one of
// the three spatial dimensions is 1), the plane that slice lies in.
func viewFor(dims [3]int, o [3]axis) view {
	for v := 0; v < 3; v++ {
		if dims[v] != 1 {
			continue
		}
		switch o[v].world {
		case 0:
			return sagittalView
		case 1:
			return coronalView
		}
		return axialView
	}
	return axialView
}

// reordered is a volume in display order.
type reordered struct {
	data          []float32
	width, height int
	frames        int
	voxelAxis     [3]int // the voxel axis behind display x, y and frames
}

// reorder copies src (voxels i fastest, ch values each, dims n) into the
// display layout vw, given the orientation o of the voxel axes.
func reorder(src []float32, n [3]int, ch int, o [3]axis, vw view) reordered {
	var size, step [3]int
	var out reordered
	base := 0
	stride := [3]int{ch, ch * n[0], ch * n[0] * n[1]}
	for k, want := range vw.axes {
		v := voxelAxisOf(o, want.world)
		out.voxelAxis[k] = v
		size[k], step[k] = n[v], stride[v]
		if o[v].sign != want.sign {
			base += (n[v] - 1) * stride[v]
			step[k] = -stride[v]
		}
	}
	out.width, out.height, out.frames = size[0], size[1], size[2]
	out.data = make([]float32, 0, len(src))
	for t := 0; t < size[2]; t++ {
		for y := 0; y < size[1]; y++ {
			p := base + t*step[2] + y*step[1]
			for x := 0; x < size[0]; x++ {
				out.data = append(out.data, src[p:p+ch]...)
				p += step[0]
			}
		}
	}
	return out
}

func voxelAxisOf(o [3]axis, world int) int {
	for v := range o {
		if o[v].world == world {
			return v
		}
	}
	return world // unreachable: orientation is a permutation
}
