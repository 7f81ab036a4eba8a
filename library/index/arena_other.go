//go:build !linux

package index

import "unsafe"

// mapPopulate: no such mmap flag here (pages are mapped in as touched).
const mapPopulate = 0

// Read-ahead advice is Linux's here (Go's syscall has no madvise on every
// system); elsewhere the kernel's default applies.
const (
	adviceRandom     = 0
	adviceSequential = 0
)

func advise([]byte, int) {}

// adviseHuge does nothing here: transparent huge pages are Linux's.
func adviseHuge(unsafe.Pointer, int) {}
