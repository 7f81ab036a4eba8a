package nifti

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// FuzzParseHeader feeds arbitrary bytes to the header parser and, when they
// parse and declare a small image, to the voxel conversion and reordering.
// Seeds: headers built here, and the start of every sample file when the
// sample cache is present.
func FuzzParseHeader(f *testing.F) {
	for _, sp := range []spec{
		{version: 1, dims: []int{3, 2, 2, 2}, datatype: 4, pixdim: [4]float64{1, 1, 1, 1}, scode: 1, srow: lps},
		{version: 1, big: true, dims: []int{4, 2, 1, 2, 2}, datatype: 16, pixdim: [4]float64{-1, 1, 2, 3}, qcode: 1, quatern: [3]float64{0, 0.5, 0.5}},
		{version: 2, dims: []int{3, 3, 1, 1}, datatype: 128, slope: 2},
		{version: 0, dims: []int{3, 2, 2, 1}, datatype: 2},
	} {
		f.Add(sp.file(sp.encode(ramp(8)...)))
	}
	if root := samples.Root(); root != "" {
		paths, _ := filepath.Glob(filepath.Join(root, "nifti", "*", "*.nii*"))
		for _, p := range paths {
			if head, err := sampleHead(p, 4096); err == nil {
				f.Add(head)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeader(data)
		if err != nil {
			return
		}
		h.affine().orientation()
		n, err := h.volumeBytes()
		if err != nil || n > 1<<16 || h.pair || h.voxOffset+n > int64(len(data)) {
			return
		}
		s := h.sample(data[h.voxOffset : h.voxOffset+n])
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// sampleHead returns the first n bytes of a sample file, inflated if gzip.
func sampleHead(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := maybeGunzip(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, n))
}
