package index

import (
	"slices"
	"unsafe"
)

// hugeArena is the size from which an arena asks for huge pages.
const hugeArena = 32 << 20

// growArena is slices.Grow for the graph's large arenas: a new backing
// array of hugeArena bytes or more is advised to use huge pages.
func growArena[T any](s []T, n int) []T {
	old := cap(s)
	s = slices.Grow(s, n)
	var zero T
	if size := cap(s) * int(unsafe.Sizeof(zero)); cap(s) != old && size >= hugeArena {
		adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), size)
	}
	return s
}
