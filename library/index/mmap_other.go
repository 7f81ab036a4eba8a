//go:build !unix

package index

import (
	"errors"
	"os"
	"unsafe"
)

// mapFile reads path into memory (no mapping on this system yet).
func mapFile(path string) ([]byte, func() error, error) { return readAll(path) }

// mapSection is not available here: the caller reads instead.
func mapSection(*os.File, int64, int) ([]byte, func() error, error) {
	return nil, nil, errors.New("no mapping on this system")
}

// mapSequential is mapFile.
func mapSequential(path string) ([]byte, func() error, error) { return readAll(path) }

func bytesAsF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	f := make([]float32, len(b)/4)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(b)), b)
	return f
}
