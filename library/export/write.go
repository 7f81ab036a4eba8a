package export

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
)

// writer encodes a data set. Its writes do not fail on their own: w is a
// bytes.Buffer or a bufio.Writer, whose error comes at Flush.
type writer struct {
	w io.Writer
	c codec
}

func (w *writer) u16(v uint16) {
	var b [2]byte
	w.c.bo.PutUint16(b[:], v)
	w.w.Write(b[:])
}

func (w *writer) u32(v uint32) {
	var b [4]byte
	w.c.bo.PutUint32(b[:], v)
	w.w.Write(b[:])
}

func (w *writer) header(t uint32, vr string, n uint32) {
	w.u16(uint16(t >> 16))
	w.u16(uint16(t))
	if w.c.implicit || t>>16 == 0xFFFE {
		w.u32(n)
		return
	}
	if vr == "" {
		vr = "UN"
	}
	io.WriteString(w.w, vr)
	if longVR[vr] {
		w.u16(0)
		w.u32(n)
		return
	}
	w.u16(uint16(n))
}

func (w *writer) dataset(elems []*element) {
	for _, e := range elems {
		w.element(e)
	}
}

func (w *writer) element(e *element) {
	switch {
	case e.seq:
		w.header(e.tag, e.vr, undefinedLen)
		saved := w.c
		if e.implicitItems {
			w.c = codec{binary.LittleEndian, true}
		}
		for _, it := range e.items {
			w.header(tagItem, "", undefinedLen)
			w.dataset(it)
			w.header(tagItemDelim, "", 0)
		}
		w.c = saved
		w.header(tagSeqDelim, "", 0)
	case e.encapsulated:
		w.header(e.tag, e.vr, undefinedLen)
		w.w.Write(e.value)
	default:
		w.header(e.tag, e.vr, uint32(len(e.value)))
		w.w.Write(e.value)
	}
}

// encode writes a Part 10 file to out: preamble, "DICM", the meta
// information (its group length computed) and the data set in f.syntax,
// streamed (the pixel data is not copied again). out's error, for a
// bufio.Writer, comes at its Flush.
func (f *file) encode(out io.Writer) error {
	var meta bytes.Buffer
	(&writer{&meta, codec{binary.LittleEndian, false}}).dataset(f.meta)
	out.Write(make([]byte, 128))
	io.WriteString(out, "DICM")
	head := &writer{out, codec{binary.LittleEndian, false}}
	head.header(0x00020000, "UL", 4)
	head.u32(uint32(meta.Len()))
	out.Write(meta.Bytes())
	if f.syntax != tsDeflated {
		(&writer{out, codecOf(f.syntax)}).dataset(f.data)
		return nil
	}
	zw, err := flate.NewWriter(out, flate.DefaultCompression)
	if err != nil {
		return err
	}
	(&writer{zw, codecOf(f.syntax)}).dataset(f.data)
	return zw.Close()
}
