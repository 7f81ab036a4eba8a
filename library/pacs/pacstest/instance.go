package pacstest

import (
	"bytes"
	"encoding/binary"
)

// Instance is a small synthetic DICOM Part 10 instance (explicit VR little
// endian, no pixels) of a study and series: a file meta group, then a
// sequence of undefined length (as real files carry before group 0020),
// a patient name, the Study and Series Instance UIDs and an instance
// number. Enough for a client that checks what it receives; nothing to
// import as an image.
func Instance(study, series, sop string) []byte {
	var meta, ds bytes.Buffer
	elem(&meta, 0x0002, 0x0001, "OB", "\x00\x01")
	elem(&meta, 0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7")
	elem(&meta, 0x0002, 0x0003, "UI", sop)
	elem(&meta, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1")
	elem(&ds, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7")
	elem(&ds, 0x0008, 0x0018, "UI", sop)
	elem(&ds, 0x0008, 0x0060, "CS", "OT")
	sequence(&ds, 0x0008, 0x1140, func(item *bytes.Buffer) { // Referenced Image Sequence
		elem(item, 0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.7")
		elem(item, 0x0008, 0x1155, "UI", "1.2.826.0.1.9.9.9")
	})
	elem(&ds, 0x0010, 0x0010, "PN", "Hostile^Test")
	elem(&ds, 0x0020, 0x000D, "UI", study)
	elem(&ds, 0x0020, 0x000E, "UI", series)
	elem(&ds, 0x0020, 0x0013, "IS", "1")
	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	var glen [4]byte
	binary.LittleEndian.PutUint32(glen[:], uint32(meta.Len()))
	elem(&out, 0x0002, 0x0000, "UL", string(glen[:]))
	out.Write(meta.Bytes())
	out.Write(ds.Bytes())
	return out.Bytes()
}

// elem writes one explicit VR little endian element (padded to even).
func elem(b *bytes.Buffer, group, element uint16, vr, value string) {
	if len(value)%2 == 1 {
		pad := " "
		if vr == "UI" || vr == "OB" {
			pad = "\x00"
		}
		value += pad
	}
	putTag(b, group, element)
	b.WriteString(vr)
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT":
		b.Write([]byte{0, 0})
		u32(b, uint32(len(value)))
	default:
		binary.Write(b, binary.LittleEndian, uint16(len(value)))
	}
	b.WriteString(value)
}

// sequence writes a sequence of one item, both of undefined length.
func sequence(b *bytes.Buffer, group, element uint16, item func(*bytes.Buffer)) {
	putTag(b, group, element)
	b.WriteString("SQ\x00\x00")
	u32(b, 0xFFFFFFFF)
	putTag(b, 0xFFFE, 0xE000)
	u32(b, 0xFFFFFFFF)
	item(b)
	putTag(b, 0xFFFE, 0xE00D)
	u32(b, 0)
	putTag(b, 0xFFFE, 0xE0DD)
	u32(b, 0)
}

func putTag(b *bytes.Buffer, group, element uint16) {
	binary.Write(b, binary.LittleEndian, [2]uint16{group, element})
}

func u32(b *bytes.Buffer, v uint32) { binary.Write(b, binary.LittleEndian, v) }
