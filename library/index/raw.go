package index

import (
	"bufio"
	"bytes"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// The float32 vectors of a quantized graph live in a file of their own
// beside the graph (PATH.f32), mapped into memory when the graph is
// loaded: only the pages a search re-ranks on are read, and the kernel may
// drop them again under memory pressure. Layout: a 64-byte header (magic,
// version u32, dim u32, the 16-byte token the graph file names it by),
// then dim little-endian f32 a node, in node order. The graph file records
// how many nodes it uses and their CRC-32C; more after them (an append cut
// short by a crash) are ignored. The checksum is verified at load for up
// to rawVerifyLimit bytes; above it only sizes and the token are (reading
// 10 GB to open a library would defeat the mapping).
//
// A save appends the vectors added since the file was written, when no
// node was removed meanwhile (node numbers on disk are still those in
// memory), and the graph file is then replaced atomically: a library of
// ten million items does not rewrite 10 GB after each import. Otherwise
// (removals, or the first save) the file is written anew, under a new
// token, through a temporary file and a rename.
const (
	rawSuffix      = ".f32"
	rawMagic       = "M3RETF32\n"
	rawVersion     = 2
	rawHeader      = 64
	rawVerifyLimit = 256 << 20
)

// rawFile is what a graph knows of its vector file.
type rawFile struct {
	path   string // "" until saved or loaded
	token  [16]byte
	onDisk int    // nodes whose vectors are in the file (in memory numbers)
	crc    uint32 // CRC-32C of those vectors
}

// saveRaw writes or extends the vector file at path, and returns its token
// and the checksum of the count vectors the graph being saved uses.
func (h *Graph[K]) saveRaw(path string, renum []int32, count int) ([16]byte, uint32, error) {
	f := &h.raw.file
	if f.path == path && h.nGone == 0 && f.onDisk <= len(h.ids) {
		if err := h.appendRaw(path); err == nil {
			return f.token, f.crc, nil
		}
	}
	var token [16]byte
	if _, err := cryptorand.Read(token[:]); err != nil {
		return token, 0, err
	}
	crc := crc32.New(castagnoli)
	err := writeAtomic(path, false, func(w *bufio.Writer) error {
		if _, err := w.Write(rawHeaderBytes(h.dim, token)); err != nil {
			return err
		}
		b := make([]byte, 0, 4*h.dim)
		for n := range h.ids {
			if renum[n] < 0 {
				continue
			}
			b = appendF32(b[:0], h.raw.vec(int32(n)))
			crc.Write(b)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return token, 0, err
	}
	*f = rawFile{path: path, token: token, onDisk: -1, crc: crc.Sum32()}
	if h.nGone == 0 { // disk numbers are memory numbers: later saves may append
		f.onDisk = len(h.ids)
	}
	return token, f.crc, nil
}

// appendRaw adds the vectors of nodes from onDisk on to the file, cutting
// off whatever an earlier, interrupted append left after them.
func (h *Graph[K]) appendRaw(path string) error {
	f := &h.raw.file
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer fh.Close()
	end := int64(rawHeader) + int64(f.onDisk)*int64(h.dim)*4
	if err := fh.Truncate(end); err != nil {
		return err
	}
	w := bufio.NewWriterSize(io.NewOffsetWriter(fh, end), 1<<20)
	crc := f.crc
	b := make([]byte, 0, 4*h.dim)
	for n := f.onDisk; n < len(h.ids); n++ {
		b = appendF32(b[:0], h.raw.vec(int32(n)))
		crc = crc32.Update(crc, castagnoli, b)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := fh.Sync(); err != nil {
		return err
	}
	f.onDisk, f.crc = len(h.ids), crc
	return nil
}

func rawHeaderBytes(dim int, token [16]byte) []byte {
	hdr := make([]byte, rawHeader)
	copy(hdr, rawMagic)
	binary.LittleEndian.PutUint32(hdr[16:], rawVersion)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(dim))
	copy(hdr[32:], token[:])
	return hdr
}

// loadRaw maps the first count vectors of a quantized graph's file.
func loadRaw(path string, token [16]byte, sum uint32, dim, count int) (*rawVectors, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	fail := func(msg string) (*rawVectors, error) {
		_ = unmap()
		return nil, errors.New(msg)
	}
	le := binary.LittleEndian
	size := int64(count) * int64(dim) * 4
	switch {
	case len(data) < rawHeader || !bytes.Equal(data[:len(rawMagic)], []byte(rawMagic)):
		return fail("not a vector file")
	case le.Uint32(data[16:]) != rawVersion:
		return fail(fmt.Sprintf("version %d, this build reads %d", le.Uint32(data[16:]), rawVersion))
	case !bytes.Equal(data[32:48], token[:]):
		return fail("written with another graph")
	case int(le.Uint32(data[20:])) != dim || int64(len(data)) < rawHeader+size:
		return fail("sizes differ from the graph's")
	}
	body := data[rawHeader : rawHeader+size]
	if size <= rawVerifyLimit && crc32.Checksum(body, castagnoli) != sum {
		return fail("checksum mismatch")
	}
	var once sync.Once
	var uerr error
	r := &rawVectors{dim: dim, unmap: func() error { once.Do(func() { uerr = unmap() }); return uerr },
		file: rawFile{path: path, token: token, onDisk: count, crc: sum}}
	if littleEndian {
		r.mapped = bytesAsF32(body)
	} else {
		r.mapped = make([]float32, count*dim)
		decodeF32(r.mapped, body)
	}
	return r, nil
}

// Close releases a loaded quantized graph's mapped vectors and codes; the
// graph must not be used afterwards. Graphs not closed are released when
// collected.
func (h *Graph[K]) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	if h.unmapCodes != nil {
		err = h.unmapCodes()
		h.codes, h.unmapCodes = nil, nil
	}
	if h.raw == nil || h.raw.unmap == nil {
		return err
	}
	if e := h.raw.unmap(); err == nil {
		err = e
	}
	h.raw.mapped, h.raw.unmap = nil, nil
	return err
}

// readAll is mapFile's fallback: the file read into memory.
func readAll(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	return b, func() error { return nil }, err
}
