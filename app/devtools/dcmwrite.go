package devtools

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
)

// This file writes the multi-frame native DICOM that `bench decode`
// compresses with dcmtk and GDCM: a CT slice repeated as frames of one
// Multi-frame Grayscale Word Secondary Capture object, explicit VR little
// endian, signed 16-bit stored values with the CT rescale. No DICOM writer
// is served in Go; this one writes only what the decoders need.

const (
	uidExplicitLE = "1.2.840.10008.1.2.1"
	uidSCWord     = "1.2.840.10008.5.1.4.1.1.7.3" // Multi-frame Grayscale Word SC
	uidBenchRoot  = "1.2.826.0.1.3680043.2.1125.19.4"
)

type dcmElem struct {
	group, elem uint16
	vr          string
	val         []byte
}

func strEl(g, e uint16, vr, s string) dcmElem {
	b := []byte(s)
	if len(b)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" {
			pad = 0
		}
		b = append(b, pad)
	}
	return dcmElem{g, e, vr, b}
}

func usEl(g, e uint16, v int) dcmElem {
	return dcmElem{g, e, "US", binary.LittleEndian.AppendUint16(nil, uint16(v))}
}

// appendEl writes one explicit VR little endian element.
func appendEl(b []byte, e dcmElem) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, e.group)
	b = le.AppendUint16(b, e.elem)
	b = append(b, e.vr...)
	switch e.vr {
	case "OB", "OW", "UN", "SQ", "UT":
		b = append(b, 0, 0)
		b = le.AppendUint32(b, uint32(len(e.val)))
	default:
		b = le.AppendUint16(b, uint16(len(e.val)))
	}
	return append(b, e.val...)
}

// ctFrames is a stack of signed 16-bit CT frames (stored values; HU is
// stored - 1024).
type ctFrames struct {
	rows, cols int
	frames     [][]int16
}

// framesFromHU makes n frames from one slice of Hounsfield units: frame k
// is the slice moved down by k rows (wrapping), so no two frames are equal
// and every frame has the slice's statistics.
func framesFromHU(hu []float32, rows, cols, n int) *ctFrames {
	c := &ctFrames{rows: rows, cols: cols}
	for k := range n {
		f := make([]int16, rows*cols)
		for y := range rows {
			src := hu[((y+k)%rows)*cols:][:cols]
			for x, v := range src {
				f[y*cols+x] = int16(math.Round(max(-32768, min(32767, float64(v)+1024))))
			}
		}
		c.frames = append(c.frames, f)
	}
	return c
}

// write saves the frames as one native multi-frame file.
func (c *ctFrames) write(path string) error {
	px := make([]byte, 0, 2*c.rows*c.cols*len(c.frames))
	for _, f := range c.frames {
		for _, v := range f {
			px = binary.LittleEndian.AppendUint16(px, uint16(v))
		}
	}
	sop := uidBenchRoot + ".1"
	ds := []dcmElem{
		strEl(0x0008, 0x0016, "UI", uidSCWord), strEl(0x0008, 0x0018, "UI", sop),
		strEl(0x0008, 0x0060, "CS", "CT"), strEl(0x0010, 0x0010, "PN", "Bench^Decode"),
		strEl(0x0020, 0x000D, "UI", uidBenchRoot+".2"), strEl(0x0020, 0x000E, "UI", uidBenchRoot+".3"),
		usEl(0x0028, 0x0002, 1), strEl(0x0028, 0x0004, "CS", "MONOCHROME2"),
		strEl(0x0028, 0x0008, "IS", strconv.Itoa(len(c.frames))),
		usEl(0x0028, 0x0010, c.rows), usEl(0x0028, 0x0011, c.cols),
		usEl(0x0028, 0x0100, 16), usEl(0x0028, 0x0101, 16), usEl(0x0028, 0x0102, 15), usEl(0x0028, 0x0103, 1),
		strEl(0x0028, 0x1050, "DS", "40"), strEl(0x0028, 0x1051, "DS", "400"),
		strEl(0x0028, 0x1052, "DS", "-1024"), strEl(0x0028, 0x1053, "DS", "1"),
		{0x7FE0, 0x0010, "OW", px},
	}
	return os.WriteFile(path, part10(sop, ds), 0o644)
}

// part10 is the preamble, the file meta group and the data set.
func part10(sop string, ds []dcmElem) []byte {
	var meta []byte
	for _, e := range []dcmElem{
		{0x0002, 0x0001, "OB", []byte{0, 1}},
		strEl(0x0002, 0x0002, "UI", uidSCWord), strEl(0x0002, 0x0003, "UI", sop),
		strEl(0x0002, 0x0010, "UI", uidExplicitLE), strEl(0x0002, 0x0012, "UI", uidBenchRoot),
	} {
		meta = appendEl(meta, e)
	}
	b := make([]byte, 128, 1024)
	b = append(b, "DICM"...)
	b = appendEl(b, dcmElem{0x0002, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(meta)))})
	b = append(b, meta...)
	for _, e := range ds {
		b = appendEl(b, e)
	}
	return b
}

// checkSyntax reports whether a file's meta group names the transfer
// syntax uid (a compressor may fall back to another).
func checkSyntax(path, uid string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 2048)
	n, _ := f.Read(head)
	if !containsUID(head[:n], uid) {
		return fmt.Errorf("%s is not in transfer syntax %s", path, uid)
	}
	return nil
}

func containsUID(b []byte, uid string) bool {
	for i := 0; i+len(uid) <= len(b); i++ {
		if string(b[i:i+len(uid)]) != uid {
			continue
		}
		if j := i + len(uid); j == len(b) || b[j] != '.' && (b[j] < '0' || b[j] > '9') {
			return true
		}
	}
	return false
}
