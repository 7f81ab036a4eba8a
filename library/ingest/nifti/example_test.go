package nifti_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/m3ret/viewer/library/ingest/nifti"
)

// A 2x2x2 uint8 NIfTI-1 file written by hand, read back in display order.
func ExampleReadFile() {
	h := make([]byte, 352)
	le := binary.LittleEndian
	le.PutUint32(h, 348)
	for i, d := range []uint16{3, 2, 2, 2} { // dim[0..3]
		le.PutUint16(h[40+2*i:], d)
	}
	le.PutUint16(h[70:], 2) // datatype uint8
	le.PutUint16(h[72:], 8) // bitpix
	for i, p := range []float32{1, 0.5, 0.5, 2} {
		le.PutUint32(h[76+4*i:], math.Float32bits(p)) // pixdim: qfac, then mm
	}
	le.PutUint32(h[108:], math.Float32bits(352)) // vox_offset
	le.PutUint16(h[252:], 1)                     // qform_code: identity rotation (RAS)
	copy(h[344:], "n+1\x00")
	voxels := []byte{1, 2, 3, 4, 5, 6, 7, 8}

	dir, _ := os.MkdirTemp("", "nifti-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "MR-brain", "t1.nii")
	os.Mkdir(filepath.Dir(path), 0o700)
	os.WriteFile(path, append(h, voxels...), 0o600)

	s, err := nifti.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Kind, s.Width, s.Height, s.Frames, s.Spacing, s.Meta.Orientation, s.Meta.Modality, s.Meta.BodyPart)
	fmt.Println(s.Data) // x and y flipped: RAS voxels shown radiologically
	// Output:
	// volume 2 2 2 [0.5 0.5 2] LPS MR BRAIN
	// [4 3 2 1 8 7 6 5]
}
