package index

import (
	"syscall"
	"unsafe"
)

// mapPopulate asks mmap to map a section's pages in at once.
const mapPopulate = syscall.MAP_POPULATE

// How a mapped file will be read (madvise), for the kernel's read-ahead.
const (
	adviceRandom     = syscall.MADV_RANDOM
	adviceSequential = syscall.MADV_SEQUENTIAL
)

func advise(b []byte, advice int) { _ = syscall.Madvise(b, advice) }

// adviseHuge asks the kernel to back the whole 2 MiB pages inside a large
// arena (link lists, codes, vectors) with transparent huge pages, where
// the system allows them on request (/sys/kernel/mm/transparent_hugepage/
// enabled: madvise, Debian's default). A search touches a few hundred
// scattered vectors and link lists; with 4 KiB pages most of those touches
// also miss the TLB. Go's heap does not ask for huge pages itself.
func adviseHuge(p unsafe.Pointer, n int) {
	const huge = 2 << 20
	start := (uintptr(p) + huge - 1) &^ (huge - 1)
	end := (uintptr(p) + uintptr(n)) &^ (huge - 1)
	if end <= start {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
}
