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
	"reflect"
	"runtime"
	"runtime/debug"
	"unsafe"
)

// ErrCorruptIndex is returned by LoadHNSW for a file that is truncated,
// of another version, or fails its checksum.
var ErrCorruptIndex = errors.New("corrupt vector index")

const (
	hnswMagic   = "M3RETHNSW\n"
	hnswVersion = 2
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
// Layout (little endian), sections in the order of the graph's memory so a
// load is a few large reads: magic, version u32, tag (u16 length + bytes),
// dim, M, efConstruction, efSearch, count u32, entry i32, top u32, flags
// u32 (1: quantized); when quantized, a 16-byte token naming its vector
// file, the CRC-32C of the vectors it uses there, and the quantizer (dim × f32 lows, dim × f32 scales); the keys (u16
// length + bytes each); the levels (u8 each); the layer-0 link lists
// (count × (1 + 2·M) i32: a count, then the links); the upper lists (level
// × (1 + M) i32 for each node above layer 0, in node order); the vectors
// (count × dim f32, or count × dim u8 codes when quantized); then the
// CRC-32C of everything before it. A quantized graph's float32 vectors go
// to PATH.f32 (see saveRaw), written first.
func (h *Graph[K]) Save(path, tag string, kc KeyCodec[K]) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	renum, count := h.renumber()
	var token [16]byte
	var rawSum uint32
	if h.quant != nil {
		var err error
		if token, rawSum, err = h.saveRaw(path+rawSuffix, renum, count); err != nil {
			return fmt.Errorf("save vector index: %w", err)
		}
	} else {
		_ = os.Remove(path + rawSuffix) // a float32 graph needs none
	}
	return writeAtomic(path, true, func(w *bufio.Writer) error { return h.write(w, tag, kc, token, rawSum, renum, count) })
}

// writeAtomic writes path through a temporary file (user-only), with a
// trailing CRC-32C of what fill wrote when trailer is set, fsync, rename
// and fsync of the folder.
func writeAtomic(path string, trailer bool, fill func(*bufio.Writer) error) error {
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
	if err := fill(w); err != nil {
		tmp.Close()
		return fmt.Errorf("save vector index: %w", err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if trailer {
		if err := binary.Write(tmp, binary.LittleEndian, crc.Sum32()); err != nil {
			tmp.Close()
			return err
		}
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

// renumber gives live nodes consecutive numbers (removed ones: -1).
func (h *Graph[K]) renumber() ([]int32, int) {
	renum := make([]int32, len(h.ids))
	count := int32(0)
	for n := range h.ids {
		renum[n] = -1
		if !h.gone[n] {
			renum[n] = count
			count++
		}
	}
	return renum, int(count)
}

func (h *Graph[K]) write(w *bufio.Writer, tag string, kc KeyCodec[K], token [16]byte, rawSum uint32, renum []int32, count int) error {
	entry := int32(-1)
	if h.entry >= 0 {
		entry = renum[h.entry]
	}
	le := binary.LittleEndian
	b := []byte(hnswMagic)
	b = le.AppendUint32(b, hnswVersion)
	b = appendString(b, tag)
	flags := uint32(0)
	if h.quant != nil {
		flags = 1
	}
	for _, v := range []int{h.dim, h.cfg.M, h.cfg.EfConstruction, int(h.ef.Load()), count} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = le.AppendUint32(b, uint32(entry))
	b = le.AppendUint32(b, uint32(h.top))
	b = le.AppendUint32(b, flags)
	if h.quant != nil {
		b = append(b, token[:]...)
		b = le.AppendUint32(b, rawSum)
		b = appendF32(appendF32(b, h.quant.lo), h.quant.scale)
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	live := func(yield func(int32) bool) {
		for n := range h.ids {
			if !h.gone[n] && !yield(int32(n)) {
				return
			}
		}
	}
	for n := range live {
		key := kc.Encode(h.ids[n])
		if len(key) > math.MaxUint16 {
			return fmt.Errorf("key of %d bytes", len(key))
		}
		b = appendString(b[:0], string(key))
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	for n := range live {
		_ = w.WriteByte(h.levels[n])
	}
	list := make([]int32, h.s0)
	writeSlot := func(n int32, l int) error { // the list with links renumbered, at its full stride
		slot := list[:h.maxLinks(l)+1]
		clear(slot)
		for _, x := range h.linksOf(n, l) {
			if renum[x] >= 0 {
				slot[1+slot[0]] = renum[x]
				slot[0]++
			}
		}
		_, err := w.Write(appendI32(b[:0], slot))
		return err
	}
	for n := range live {
		if err := writeSlot(n, 0); err != nil {
			return err
		}
	}
	for n := range live {
		for l := 1; l <= int(h.levels[n]); l++ {
			if err := writeSlot(n, l); err != nil {
				return err
			}
		}
	}
	for n := range live {
		var err error
		if h.quant != nil {
			_, err = w.Write(h.codes[int(n)*h.dim : int(n+1)*h.dim])
		} else {
			_, err = w.Write(appendF32(b[:0], h.vecs[int(n)*h.dim:int(n+1)*h.dim]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendF32(b []byte, v []float32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func appendI32(b []byte, v []int32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// LoadHNSW reads a string-keyed graph saved by Save, with its tag.
func LoadHNSW(path string) (*HNSW, string, error) { return LoadGraph(path, StringKeys) }

// LoadGraph reads a graph saved by Save and returns it with its tag. The
// file is read in a few large reads (its checksum computed on the way)
// with the garbage collector paused meanwhile: everything loaded stays
// alive, so collecting during the load would only rescan it. A quantized
// graph maps its float32 vectors (PATH.f32) instead of reading them.
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
	r := &reader{r: bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, body), crc), 1<<20), left: body, file: f, size: body}
	h, tag, g, err := parseGraph(r, kc)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v: %w", path, err, ErrCorruptIndex)
	}
	var sum [4]byte
	if _, err := io.ReadFull(f, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != crc.Sum32() {
		return nil, "", fmt.Errorf("%s: checksum mismatch: %w", path, ErrCorruptIndex)
	}
	if h.quant != nil {
		if h.raw, err = loadRaw(path+rawSuffix, g.token, g.rawSum, h.dim, len(h.ids)); err != nil {
			return nil, "", fmt.Errorf("%s: %v: %w", path+rawSuffix, err, ErrCorruptIndex)
		}
		runtime.AddCleanup(h, func(unmap func() error) { _ = unmap() }, h.raw.unmap)
	}
	return h, tag, nil
}

// reader reads a saved graph, remembering the first error; slices take
// returns are valid until the next call.
type reader struct {
	r    *bufio.Reader
	left int64 // bytes of the body not yet read
	buf  []byte
	err  error
	file *os.File // the file read, from its start; nil when not a file
	size int64    // the body's size, when file is set
}

// mapCodesFrom is the size from which a loaded graph's codes are mapped
// from its file rather than copied into fresh memory.
var mapCodesFrom = hugeArena

// codes returns the next n bytes as a loaded graph's codes: mapped from
// the file (its pages are the page cache's: nothing to clear, fault in or
// copy; at 10M items 2.56 GB) with their unmap function, still read
// through for the checksum; else read into memory (unmap nil).
func (r *reader) codes(n int) ([]uint8, func() error) {
	if r.file != nil && r.err == nil && n >= mapCodesFrom && int64(n) <= r.left {
		if b, unmap, err := mapSection(r.file, r.size-r.left, n); err == nil {
			if _, err := r.r.Discard(n); err != nil {
				_ = unmap()
				r.err = fmt.Errorf("read: %w", err)
				return nil, nil
			}
			r.left -= int64(n)
			return b, unmap
		}
	}
	b := make([]uint8, n)
	r.fill(b)
	return b, nil
}

func (r *reader) take(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, max(n, 4096))
	}
	b := r.buf[:max(n, 0)]
	r.fill(b)
	return b
}

// fill reads exactly len(b) bytes into b.
func (r *reader) fill(b []byte) {
	if r.err != nil {
		return
	}
	if int64(len(b)) > r.left {
		r.err = errors.New("truncated")
		return
	}
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = fmt.Errorf("read: %w", err)
		return
	}
	r.left -= int64(len(b))
}

func (r *reader) u16() int    { return int(binary.LittleEndian.Uint16(r.take(2))) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) str() string { return string(r.take(r.u16())) }

// i32s and f32s read little-endian arrays straight into dst.
func (r *reader) i32s(dst []int32) {
	if littleEndian {
		r.fill(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)))
		return
	}
	decodeI32(dst, r.take(4*len(dst)))
}

func (r *reader) f32s(dst []float32) {
	if littleEndian {
		r.fill(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)))
		return
	}
	decodeF32(dst, r.take(4*len(dst)))
}

// graphHeader is the fixed part of a saved graph.
type graphHeader struct {
	tag                     string
	dim, m, efc, efs, count int
	entry                   int32
	top                     int
	quantized               bool
	token                   [16]byte
	rawSum                  uint32
}

func readHeader(r *reader) (graphHeader, error) {
	var g graphHeader
	if string(r.take(len(hnswMagic))) != hnswMagic {
		return g, errors.New("not a vector index file")
	}
	if v := r.u32(); v != hnswVersion {
		return g, fmt.Errorf("version %d, this build reads %d", v, hnswVersion)
	}
	g.tag = r.str()
	g.dim, g.m, g.efc, g.efs, g.count = int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32()), int(r.u32())
	g.entry, g.top = int32(r.u32()), int(r.u32())
	flags := r.u32()
	g.quantized = flags&1 != 0
	if g.quantized {
		copy(g.token[:], r.take(16))
		g.rawSum = r.u32()
	}
	perNode := int64(3 + 1 + 4*(2*g.m+1) + g.dim) // the least a node takes
	// An empty graph has no dimension yet (it takes the first vector's).
	if r.err != nil || g.dim < 0 || g.dim > 1<<16 || g.count < 0 || g.top > 64 || g.m < 2 || g.m > 1024 ||
		flags > 1 || (g.dim == 0 && g.count != 0) || int64(g.count) > r.left/perNode {
		return g, errors.New("bad header")
	}
	return g, nil
}

func parseGraph[K comparable](r *reader, kc KeyCodec[K]) (*Graph[K], string, graphHeader, error) {
	g, err := readHeader(r)
	if err != nil {
		return nil, "", g, err
	}
	h := NewGraph[K](g.dim, HNSWConfig{M: g.m, EfConstruction: g.efc, EfSearch: g.efs, Seed: 1, Quantize: g.quantized})
	if h.cfg.M != g.m {
		return nil, "", g, errors.New("bad header")
	}
	count, dim := g.count, g.dim
	if g.quantized {
		h.quant = &quantizer{lo: make([]float32, dim), scale: make([]float32, dim)}
		r.f32s(h.quant.lo)
		r.f32s(h.quant.scale)
	}
	if err := h.readKeys(r, kc, count); err != nil {
		return nil, "", g, err
	}
	// The key map is built while the rest is read, and after: search
	// needs none (see keysReady).
	h.keysReady = make(chan struct{})
	go func() { h.keysErr = h.mapKeys(); close(h.keysReady) }()
	h.levels, h.gone = make([]uint8, count), make([]bool, count)
	r.fill(h.levels)
	if err := h.readLinks(r, count); err != nil {
		return nil, "", g, err
	}
	checked := make(chan error, 1) // the links, checked while the vectors are read
	go func() { checked <- h.checkLinks(count) }()
	if g.quantized {
		h.codes, h.unmapCodes = r.codes(count * dim)
		if h.unmapCodes != nil {
			runtime.AddCleanup(h, func(unmap func() error) { _ = unmap() }, h.unmapCodes)
		}
	} else {
		h.vecs = make([]float32, count*dim)
		r.f32s(h.vecs)
	}
	if err := <-checked; err != nil {
		return nil, "", g, err
	}
	if r.err != nil || r.left != 0 || g.entry >= int32(count) || (count > 0 && g.entry < 0) {
		return nil, "", g, fmt.Errorf("bad body: %v", r.err)
	}
	h.entry, h.top, h.alive = g.entry, g.top, count
	if count > 0 && int(h.levels[g.entry]) != g.top {
		return nil, "", g, errors.New("entry point is not on the top layer")
	}
	return h, g.tag, g, nil
}

// readKeys reads count keys into ids (string keys share one allocation);
// mapKeys indexes them.
func (h *Graph[K]) readKeys(r *reader, kc KeyCodec[K], count int) error {
	h.ids, h.pos = make([]K, count), make(map[K]int32, count)
	if ids, ok := any(h.ids).([]string); ok && isStringKeys(kc) {
		arena, ends := make([]byte, 0, count*8), make([]int, count)
		for n := range count {
			arena = append(arena, r.take(r.u16())...)
			ends[n] = len(arena)
			if r.err != nil {
				return r.err
			}
		}
		all, start := unsafe.String(unsafe.SliceData(arena), len(arena)), 0
		for n, end := range ends {
			ids[n], start = all[start:end], end
		}
		return nil
	}
	for n := 0; n < count && r.err == nil; n++ {
		key, err := kc.Decode(r.take(r.u16()))
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		h.ids[n] = key
	}
	return r.err
}

// waitKeys waits until a loaded graph's key map is complete; a key saved
// twice (a file written by something else than Save) makes the graph
// refuse what needs the map.
func (h *Graph[K]) waitKeys() error {
	if h.keysReady == nil {
		return nil
	}
	<-h.keysReady
	if h.keysErr != nil {
		return fmt.Errorf("%v: %w", h.keysErr, ErrCorruptIndex)
	}
	return nil
}

// mapKeys fills pos from ids, refusing a key twice.
func (h *Graph[K]) mapKeys() error {
	for n, id := range h.ids {
		if _, dup := h.pos[id]; dup {
			return errors.New("duplicate key")
		}
		h.pos[id] = int32(n)
	}
	return nil
}

// isStringKeys tells the library's codec (keys stored as they are).
func isStringKeys[K comparable](kc KeyCodec[K]) bool {
	s, ok := any(kc).(KeyCodec[string])
	return ok && reflect.ValueOf(s.Decode).Pointer() == reflect.ValueOf(StringKeys.Decode).Pointer()
}

// readLinks reads the link lists; checkLinks then checks that each link
// reaches a node present on its layer.
func (h *Graph[K]) readLinks(r *reader, count int) error {
	if r.err != nil {
		return r.err
	}
	// make, not growArena: slices.Grow clears the new part, and memory fresh
	// from the OS is clear already (at 10M, clearing the links took 0.9 s).
	h.l0 = make([]int32, count*h.s0)
	r.i32s(h.l0)
	h.upAt = make([]int32, count)
	above := 0
	for n, l := range h.levels {
		h.upAt[n] = int32(above)
		above += int(l) * h.s1
		if above > int(r.left/4) {
			return errors.New("truncated upper layers")
		}
	}
	h.upper = make([]int32, above)
	r.i32s(h.upper)
	if r.err != nil {
		return r.err
	}
	return nil
}

// checkLinks checks, on every CPU, that each link list's count is within
// bounds and each link reaches a node present on its layer.
func (h *Graph[K]) checkLinks(count int) error {
	parts := min(runtime.GOMAXPROCS(0), max(count/65536, 1))
	errs := make(chan error, parts)
	for p := range parts {
		go func() { errs <- h.checkLinksIn(p*count/parts, (p+1)*count/parts, count) }()
	}
	var first error
	for range parts {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (h *Graph[K]) checkLinksIn(lo, hi, count int) error {
	for n := lo; n < hi; n++ {
		for lc := 0; lc <= int(h.levels[n]); lc++ {
			s := h.slot(int32(n), lc)
			if s[0] < 0 || int(s[0]) > h.maxLinks(lc) {
				return errors.New("bad link count")
			}
			for _, x := range s[1 : 1+s[0]] {
				if x < 0 || int(x) >= count || int(h.levels[x]) < lc {
					return errors.New("link out of range")
				}
			}
		}
	}
	return nil
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
