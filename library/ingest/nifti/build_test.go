package nifti

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// spec describes a synthetic NIfTI (or Analyze) file built by the tests.
type spec struct {
	version  int // 0 Analyze, 1 or 2
	big      bool
	pair     bool
	dims     []int // dim[0] (the count), then the sizes
	datatype int16
	pixdim   [4]float64 // qfac, dx, dy, dz
	slope    float64
	inter    float64
	qcode    int
	scode    int
	quatern  [3]float64
	qoffset  [3]float64
	srow     [3][4]float64
	descrip  string
	offset   int // vox_offset; 0 means the minimum
}

func (s spec) order() binary.ByteOrder {
	if s.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// lps is an sform whose voxel axes already run L, P, S: the display order is
// the file order.
var lps = [3][4]float64{{-1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, 1, 0}}

// header encodes the header (348 or 540 bytes, plus the 4-byte extension
// flag for single files).
func (s spec) header() []byte {
	if s.version == 2 {
		return s.header2()
	}
	o := s.order()
	b := make([]byte, size1+4)
	o.PutUint32(b, size1)
	for i, d := range s.dims {
		o.PutUint16(b[40+2*i:], uint16(d))
	}
	o.PutUint16(b[70:], uint16(s.datatype))
	o.PutUint16(b[72:], uint16(8*dtypes[s.datatype].size))
	for i, v := range s.pixdim {
		o.PutUint32(b[76+4*i:], math.Float32bits(float32(v)))
	}
	o.PutUint32(b[108:], math.Float32bits(float32(s.voxOffset())))
	copy(b[148:228], s.descrip)
	if s.version == 0 {
		return b[:size1]
	}
	o.PutUint32(b[112:], math.Float32bits(float32(s.slope)))
	o.PutUint32(b[116:], math.Float32bits(float32(s.inter)))
	o.PutUint16(b[252:], uint16(s.qcode))
	o.PutUint16(b[254:], uint16(s.scode))
	for i := 0; i < 3; i++ {
		o.PutUint32(b[256+4*i:], math.Float32bits(float32(s.quatern[i])))
		o.PutUint32(b[268+4*i:], math.Float32bits(float32(s.qoffset[i])))
		for j := 0; j < 4; j++ {
			o.PutUint32(b[280+16*i+4*j:], math.Float32bits(float32(s.srow[i][j])))
		}
	}
	copy(b[344:], "n+1\x00")
	if s.pair {
		copy(b[344:], "ni1\x00")
		return b[:size1]
	}
	return b
}

func (s spec) header2() []byte {
	o := s.order()
	b := make([]byte, size2+4)
	o.PutUint32(b, size2)
	copy(b[4:], "n+2\x00\r\n\x1a\n")
	if s.pair {
		copy(b[4:], "ni2\x00\r\n\x1a\n")
	}
	o.PutUint16(b[12:], uint16(s.datatype))
	o.PutUint16(b[14:], uint16(8*dtypes[s.datatype].size))
	for i, d := range s.dims {
		o.PutUint64(b[16+8*i:], uint64(d))
	}
	for i, v := range s.pixdim {
		o.PutUint64(b[104+8*i:], math.Float64bits(v))
	}
	o.PutUint64(b[168:], uint64(s.voxOffset()))
	o.PutUint64(b[176:], math.Float64bits(s.slope))
	o.PutUint64(b[184:], math.Float64bits(s.inter))
	copy(b[240:320], s.descrip)
	o.PutUint32(b[344:], uint32(s.qcode))
	o.PutUint32(b[348:], uint32(s.scode))
	for i := 0; i < 3; i++ {
		o.PutUint64(b[352+8*i:], math.Float64bits(s.quatern[i]))
		o.PutUint64(b[376+8*i:], math.Float64bits(s.qoffset[i]))
		for j := 0; j < 4; j++ {
			o.PutUint64(b[400+32*i+8*j:], math.Float64bits(s.srow[i][j]))
		}
	}
	if s.pair {
		return b[:size2]
	}
	return b
}

func (s spec) voxOffset() int {
	switch {
	case s.offset != 0 || s.pair || s.version == 0:
		return s.offset
	case s.version == 2:
		return size2 + 4
	}
	return size1 + 4
}

// file is a single-file image: header, extension flag, voxels.
func (s spec) file(voxels []byte) []byte {
	return append(s.header(), voxels...)
}

// encode writes values in the spec's datatype and byte order.
func (s spec) encode(values ...float64) []byte {
	o := s.order()
	dt := dtypes[s.datatype]
	b := make([]byte, len(values)*dt.size/dt.channels)
	for i, v := range values {
		switch s.datatype {
		case 2, 256, 128:
			b[i] = byte(int8(v))
			if v > 127 {
				b[i] = byte(v)
			}
		case 4, 512:
			o.PutUint16(b[2*i:], uint16(int16(v)))
			if v > 32767 {
				o.PutUint16(b[2*i:], uint16(v))
			}
		case 8, 768:
			o.PutUint32(b[4*i:], uint32(int32(v)))
			if v > math.MaxInt32 {
				o.PutUint32(b[4*i:], uint32(v))
			}
		case 16:
			o.PutUint32(b[4*i:], math.Float32bits(float32(v)))
		case 64:
			o.PutUint64(b[8*i:], math.Float64bits(v))
		}
	}
	return b
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// write saves data as dir/name and returns the path.
func write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ramp returns 0, 1, ..., n-1.
func ramp(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i)
	}
	return v
}
