package index

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"unsafe"
)

// ErrCorruptIndex is returned by LoadHNSW for a file that is truncated,
// of another version, or fails its checksum.
var ErrCorruptIndex = errors.New("corrupt vector index")

const (
	hnswMagic   = "M3RETHNSW\n"
	hnswVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// KeyCodec turns a graph's keys into bytes and back, for Save and
// LoadGraph (at most 65,535 bytes a key).
type KeyCodec[K comparable] struct {
	Encode func(K) []byte
	Decode func([]byte) (K, error)
}

// StringKeys is the codec of string keys.
var StringKeys = KeyCodec[string]{
	Encode: func(s string) []byte { return []byte(s) },
	Decode: func(b []byte) (string, error) { return string(b), nil },
}

// Save writes the graph to path atomically (temporary file, fsync,
// rename, fsync of the folder), readable by the user alone. Removed nodes
// are left out. tag is stored in the header (the library stores its model
// id there) and returned by LoadHNSW.
//
// Layout (little endian): magic, version u32, tag (u16 length + bytes),
// dim, M, efConstruction, efSearch u32, count u32, entry i32, top u32; per
// node: id (u16 length + bytes), level u8, vector (dim × f32), per layer:
// link count u16 + links (i32); then the CRC-32C of everything before it.
func (h *Graph[K]) Save(path, tag string, kc KeyCodec[K]) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hnsw-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	if err := h.write(w, tag, kc); err != nil {
		tmp.Close()
		return fmt.Errorf("save vector index: %w", err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := binary.Write(tmp, binary.LittleEndian, crc.Sum32()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (h *Graph[K]) write(w *bufio.Writer, tag string, kc KeyCodec[K]) error {
	// Compact: renumber live nodes, dropping removed ones.
	renum := make([]int32, len(h.ids))
	count := int32(0)
	for n := range h.ids {
		renum[n] = -1
		if !h.gone[n] {
			renum[n] = count
			count++
		}
	}
	entry := int32(-1)
	if h.entry >= 0 {
		entry = renum[h.entry]
	}
	le := binary.LittleEndian
	b := []byte(hnswMagic)
	b = le.AppendUint32(b, hnswVersion)
	b = appendString(b, tag)
	for _, v := range []int{h.dim, h.cfg.M, h.cfg.EfConstruction, int(h.ef.Load()), int(count)} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = le.AppendUint32(b, uint32(entry))
	b = le.AppendUint32(b, uint32(h.top))
	if _, err := w.Write(b); err != nil {
		return err
	}
	for n, id := range h.ids {
		if h.gone[n] {
			continue
		}
		key := kc.Encode(id)
		if len(key) > math.MaxUint16 {
			return fmt.Errorf("key of %d bytes", len(key))
		}
		b = appendString(b[:0], string(key))
		b = append(b, h.levels[n])
		for _, x := range h.vec(int32(n)) {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
		for _, layer := range h.links[n] {
			at := len(b)
			b = le.AppendUint16(b, 0)
			k := uint16(0)
			for _, x := range layer {
				if renum[x] >= 0 {
					b = le.AppendUint32(b, uint32(renum[x]))
					k++
				}
			}
			le.PutUint16(b[at:], k)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// LoadHNSW reads a string-keyed graph saved by Save, with its tag.
func LoadHNSW(path string) (*HNSW, string, error) { return LoadGraph(path, StringKeys) }

// LoadGraph reads a graph saved by Save and returns it with its tag. The
// file is streamed (its checksum computed on the way) and the garbage
// collector paused meanwhile: everything loaded stays alive, so collecting
// during the load would only rescan it.
func LoadGraph[K comparable](path string, kc KeyCodec[K]) (*Graph[K], string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if st.Size() < int64(len(hnswMagic))+8 {
		return nil, "", fmt.Errorf("%s: too short: %w", path, ErrCorruptIndex)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	crc := crc32.New(castagnoli)
	body := st.Size() - 4
	r := &reader{r: bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, body), crc), 1<<20), left: body}
	h, tag, err := parseGraph(r, kc)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v: %w", path, err, ErrCorruptIndex)
	}
	var sum [4]byte
	if _, err := io.ReadFull(f, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != crc.Sum32() {
		return nil, "", fmt.Errorf("%s: checksum mismatch: %w", path, ErrCorruptIndex)
	}
	return h, tag, nil
}

// reader reads a saved graph, remembering the first error; slices it
// returns are valid until the next call.
type reader struct {
	r    *bufio.Reader
	left int64 // bytes of the body not yet read
	buf  []byte
	err  error
}

func (r *reader) take(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, max(n, 4096))
	}
	b := r.buf[:max(n, 0)]
	if r.err != nil {
		return b
	}
	if n < 0 || int64(n) > r.left {
		r.err = errors.New("truncated")
		return b
	}
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = fmt.Errorf("read: %w", err)
		return b
	}
	r.left -= int64(n)
	return b
}

func (r *reader) u16() int    { return int(binary.LittleEndian.Uint16(r.take(2))) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) str() string { return string(r.take(r.u16())) }

func parseGraph[K comparable](r *reader, kc KeyCodec[K]) (*Graph[K], string, error) {
	if string(r.take(len(hnswMagic))) != hnswMagic {
		return nil, "", errors.New("not a vector index file")
	}
	if v := r.u32(); v != hnswVersion {
		return nil, "", fmt.Errorf("version %d, this build reads %d", v, hnswVersion)
	}
	tag := r.str()
	dim, m, efc, efs, count := int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32())
	entry, top := int32(r.u32()), int(r.u32())
	// An empty graph has no dimension yet (it takes the first vector's).
	if r.err != nil || dim < 0 || dim > 1<<16 || count < 0 || top > 64 ||
		(dim == 0 && count != 0) || (dim > 0 && int64(count) > r.left/int64(4*dim)) {
		return nil, "", errors.New("bad header")
	}
	h := NewGraph[K](dim, HNSWConfig{M: m, EfConstruction: efc, EfSearch: efs, Seed: 1})
	h.ids, h.gone, h.levels = make([]K, count), make([]bool, count), make([]uint8, count)
	h.vecs, h.links = make([]float32, count*dim), make([][][]int32, count)
	h.pos = make(map[K]int32, count)
	layerArena := make([][]int32, 4096)
	linkArena := make([]int32, 1<<16)
	for n := 0; n < count && r.err == nil; n++ {
		key, err := kc.Decode(r.take(r.u16()))
		if err != nil {
			return nil, "", fmt.Errorf("key: %w", err)
		}
		if _, dup := h.pos[key]; dup {
			return nil, "", errors.New("duplicate key")
		}
		h.ids[n] = key
		h.pos[key] = int32(n)
		h.levels[n] = r.take(1)[0]
		decodeF32(h.vecs[n*dim:(n+1)*dim], r.take(4*dim))
		layers := int(h.levels[n]) + 1
		if len(layerArena) < layers {
			layerArena = make([][]int32, max(layers, 4096))
		}
		h.links[n], layerArena = layerArena[:layers:layers], layerArena[layers:]
		for lc := range h.links[n] {
			k := r.u16()
			raw := r.take(4 * k)
			if len(linkArena) < k {
				linkArena = make([]int32, max(k, 1<<16))
			}
			l := linkArena[:k:k] // full slice: an append later copies instead of overwriting a neighbour's links
			linkArena = linkArena[k:]
			decodeI32(l, raw)
			for _, x := range l {
				if x < 0 || int(x) >= count {
					r.err = errors.New("link out of range")
				}
			}
			h.links[n][lc] = l
		}
	}
	if r.err != nil || r.left != 0 || entry >= int32(count) || (count > 0 && entry < 0) {
		return nil, "", fmt.Errorf("bad body: %v", r.err)
	}
	h.entry, h.top, h.alive = entry, top, count
	if count > 0 && int(h.levels[entry]) != top {
		return nil, "", errors.New("entry point is not on the top layer")
	}
	for n := range h.links { // every link must reach a node present on its layer
		for lc, l := range h.links[n] {
			for _, x := range l {
				if int(h.levels[x]) < lc {
					return nil, "", errors.New("link to a node below its layer")
				}
			}
		}
	}
	return h, tag, nil
}

// littleEndian is true on hosts whose memory order matches the file's.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// decodeF32 fills dst from little-endian bytes (a plain copy on
// little-endian hosts).
func decodeF32(dst []float32, raw []byte) {
	if littleEndian && len(dst) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), raw)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
}

// decodeI32 fills dst from little-endian bytes.
func decodeI32(dst []int32, raw []byte) {
	if littleEndian && len(dst) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), raw)
		return
	}
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
}
