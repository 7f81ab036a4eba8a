//go:build !linux

package index

import "unsafe"

// adviseHuge does nothing here: transparent huge pages are Linux's.
func adviseHuge(unsafe.Pointer, int) {}
