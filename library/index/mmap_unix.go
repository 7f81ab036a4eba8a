//go:build unix

package index

import (
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps path read-only into memory, for scattered reads.
func mapFile(path string) ([]byte, func() error, error) {
	return mapWith(path, syscall.MADV_RANDOM)
}

// mapSequential maps path read-only for reading from start to end (the
// benchmark's vectors, copied into the graph in order).
func mapSequential(path string) ([]byte, func() error, error) {
	return mapWith(path, syscall.MADV_SEQUENTIAL)
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
	_ = syscall.Madvise(b, advice)
	return b, func() error { return syscall.Munmap(b) }, nil
}

func bytesAsF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
