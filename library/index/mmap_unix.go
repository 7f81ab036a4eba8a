//go:build unix

package index

import (
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// mapFile maps path read-only into memory, for scattered reads.
func mapFile(path string) ([]byte, func() error, error) {
	return mapWith(path, adviceRandom)
}

// mapSequential maps path read-only for reading from start to end (the
// benchmark's vectors, copied into the graph in order).
func mapSequential(path string) ([]byte, func() error, error) {
	return mapWith(path, adviceSequential)
}

// mapSection maps n bytes of f from off, read-only, its pages mapped in at
// once (on Linux) rather than one fault at a time.
func mapSection(f *os.File, off int64, n int) ([]byte, func() error, error) {
	page := int64(os.Getpagesize())
	start := off &^ (page - 1)
	b, err := syscall.Mmap(int(f.Fd()), start, n+int(off-start), syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, nil, err
	}
	lead := int(off - start)
	return b[lead : lead+n : lead+n], unmapOnce(b), nil
}

// unmapOnce unmaps b on its first call only: Close and the cleanup of a
// collected graph may both call it, and a second munmap could remove a
// later mapping at the same address.
func unmapOnce(b []byte) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = syscall.Munmap(b) })
		return err
	}
}

func mapWith(path string, advice int) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, func() error { return nil }, nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readAll(path)
	}
	// Re-ranking reads a few scattered vectors: no read-ahead around them
	// (it would fill memory with neighbours never asked for). A file read
	// in order gets read-ahead (with MADV_RANDOM, 10 GB came in 4 KiB
	// faults at 63 MB/s here).
	advise(b, advice)
	return b, unmapOnce(b), nil
}

func bytesAsF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
