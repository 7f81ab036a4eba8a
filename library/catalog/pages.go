package catalog

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sort"
)

// The functions here read a bbolt file's pages with plain reads, checking
// every length and offset, never through bbolt: a damaged page makes them
// say so, where bbolt panics, or faults on an address past the end of the
// file. Inspect (a catalog's check) and Salvage read through them.

// bbolt's page layout (go.etcd.io/bbolt/internal/common).
const (
	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagMeta     = 0x04
	flagFreelist = 0x10
	flagBucket   = 0x01 // a leaf element that is a nested bucket
	headerSize   = 16   // id, flags, count, overflow
	elemSize     = 16   // a branch or leaf element's header
	boltVersion  = 2
	maxDepth     = 64 // deeper than any sound tree: a loop
	noFreelist   = ^uint64(0)
)

// boltMagic marks a bbolt meta page.
const boltMagic = 0xED0CDAED

// errPage says that a page is not what the tree that leads to it says.
var errPage = errors.New("damaged page")

// pageFile is a bbolt file open for plain reading.
type pageFile struct {
	f        *os.File
	pages    uint64 // whole pages in the file
	pageSize int
}

// meta is one of a bbolt file's two meta pages.
type meta struct {
	page     uint64 // 0 or 1
	root     uint64
	freelist uint64
	pgid     uint64 // the high-water mark: pages below it are in use or free
	txid     uint64
	valid    bool // magic, version and checksum right
}

func openPageFile(path string) (*pageFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ps := pageSizeAt(f)
	return &pageFile{f: f, pageSize: ps, pages: uint64(st.Size()) / uint64(ps)}, nil
}

func (pf *pageFile) Close() error { return pf.f.Close() }

// pageSizeAt reads the page size from the first valid meta page (4096
// when neither is).
func pageSizeAt(f *os.File) int {
	for _, at := range []int64{0, 4096} {
		b := make([]byte, 80)
		if _, err := f.ReadAt(b, at); err != nil {
			continue
		}
		m := parseMeta(b)
		ps := int(binary.LittleEndian.Uint32(b[24:]))
		if m.valid && ps >= 512 && ps <= 1<<16 && ps&(ps-1) == 0 {
			return ps
		}
	}
	return 4096
}

// parseMeta decodes a meta page (its first 80 bytes).
func parseMeta(b []byte) meta {
	if len(b) < 80 {
		return meta{}
	}
	le := binary.LittleEndian
	m := meta{page: le.Uint64(b), root: le.Uint64(b[32:]), freelist: le.Uint64(b[48:]),
		pgid: le.Uint64(b[56:]), txid: le.Uint64(b[64:])}
	m.valid = le.Uint16(b[8:]) == flagMeta && le.Uint32(b[16:]) == boltMagic &&
		le.Uint32(b[20:]) == boltVersion && metaSumOK(b)
	return m
}

// metaSumOK checks a meta page's checksum: FNV-64a of the meta fields
// before it, as bbolt computes it.
func metaSumOK(m []byte) bool {
	h := fnv.New64a()
	h.Write(m[16:72])
	return h.Sum64() == binary.LittleEndian.Uint64(m[72:80])
}

// metas reads both meta pages; one that is not there is not valid.
func (pf *pageFile) metas() [2]meta {
	var out [2]meta
	for i := range out {
		b := make([]byte, 80)
		if _, err := pf.f.ReadAt(b, int64(i*pf.pageSize)); err == nil {
			out[i] = parseMeta(b)
			out[i].valid = out[i].valid && out[i].page == uint64(i)
		}
	}
	return out
}

// page is a branch or leaf page read whole (with its overflow pages), or
// an inline bucket's page.
type page struct {
	id    uint64
	flags uint16
	count int
	buf   []byte
}

// read reads page id, which must lie below limit, say it is that page
// and be a branch or leaf page.
func (pf *pageFile) read(id, limit uint64) (*page, error) {
	if id < 2 || id >= min(limit, pf.pages) {
		return nil, fmt.Errorf("%w: page %d is out of bounds", errPage, id)
	}
	head := make([]byte, headerSize)
	if _, err := pf.f.ReadAt(head, int64(id)*int64(pf.pageSize)); err != nil {
		return nil, fmt.Errorf("%w: page %d: %v", errPage, id, err)
	}
	le := binary.LittleEndian
	over := uint64(le.Uint32(head[12:]))
	switch {
	case le.Uint64(head) != id:
		return nil, fmt.Errorf("%w: page %d says it is page %d", errPage, id, le.Uint64(head))
	case le.Uint16(head[8:]) != flagBranch && le.Uint16(head[8:]) != flagLeaf:
		return nil, fmt.Errorf("%w: page %d is of no known kind (%#x)", errPage, id, le.Uint16(head[8:]))
	case id+over >= min(limit, pf.pages):
		return nil, fmt.Errorf("%w: page %d runs past the end", errPage, id)
	}
	buf := make([]byte, (over+1)*uint64(pf.pageSize))
	if _, err := pf.f.ReadAt(buf, int64(id)*int64(pf.pageSize)); err != nil {
		return nil, fmt.Errorf("%w: page %d: %v", errPage, id, err)
	}
	return &page{id: id, flags: le.Uint16(head[8:]), count: int(le.Uint16(head[10:])), buf: buf}, nil
}

// inlinePage is the page an inline bucket's value carries after its
// 16-byte bucket header.
func inlinePage(v []byte) (*page, error) {
	if len(v) < 16+headerSize {
		return nil, fmt.Errorf("%w: an inline bucket is cut short", errPage)
	}
	b := v[16:]
	if binary.LittleEndian.Uint16(b[8:]) != flagLeaf {
		return nil, fmt.Errorf("%w: an inline bucket is not a leaf", errPage)
	}
	return &page{flags: flagLeaf, count: int(binary.LittleEndian.Uint16(b[10:])), buf: b}, nil
}

// elem is a branch element (key, child) or a leaf element (key, value,
// whether it is a bucket).
type elem struct {
	key, value []byte
	child      uint64
	bucket     bool
}

// elems decodes the page's elements that lie inside the page with keys
// inside [lo, hi) (nil: open), ascending: when some do not (a damaged
// page), it keeps the longest ascending run of those that do, and says
// why the page is damaged. See strays for the others.
func (p *page) elems(lo, hi []byte) ([]elem, error) {
	kept, _, err := p.sorted(lo, hi)
	return kept, err
}

// sorted is elems, and the elements inside the page it left out: strays
// (their keys damaged, or their order), whose values may still be whole.
func (p *page) sorted(lo, hi []byte) (kept, strays []elem, damage error) {
	all := make([]elem, 0, p.count)
	for i := range p.count {
		el, err := p.elem(i)
		if err == nil && !(keyRange{lo: lo, hi: hi}).in(el.key) {
			strays, err = append(strays, el), errors.New("key out of its page's range")
		}
		if err != nil {
			damage = cmp.Or(damage, fmt.Errorf("%w: page %d: element %d: %v", errPage, p.id, i, err))
			if errors.Is(err, errOutside) {
				break // the count is wrong: every later element is outside too
			}
			continue
		}
		all = append(all, el)
	}
	kept, out := ascending(all)
	if len(out) > 0 && damage == nil {
		damage = fmt.Errorf("%w: page %d: keys out of order", errPage, p.id)
	}
	return kept, append(strays, out...), damage
}

var errOutside = errors.New("element out of bounds")

// elem decodes element i.
func (p *page) elem(i int) (elem, error) {
	at := headerSize + i*elemSize
	if at+elemSize > len(p.buf) {
		return elem{}, errOutside
	}
	le := binary.LittleEndian
	e := p.buf[at:]
	var el elem
	var pos, ks, vs uint64
	if p.flags == flagBranch {
		pos, ks, el.child = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:])), le.Uint64(e[8:])
	} else {
		pos, ks, vs = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		el.bucket = le.Uint32(e)&flagBucket != 0
	}
	start := uint64(at) + pos
	if start+ks+vs > uint64(len(p.buf)) || ks == 0 {
		return elem{}, errors.New("key or value out of bounds")
	}
	el.key, el.value = p.buf[start:start+ks], p.buf[start+ks:start+ks+vs]
	return el, nil
}

// ascending returns the longest run of els (in their order) whose keys
// strictly ascend, and the others: what a page whose keys some damage
// scrambled still holds in order.
func ascending(els []elem) (run, others []elem) {
	if len(els) < 2 {
		return els, nil
	}
	tails := []int{}              // tails[k]: index of the smallest last key of an ascending run of k+1
	prev := make([]int, len(els)) // the element before each in its run
	for i, e := range els {
		k := sort.Search(len(tails), func(j int) bool { return bytes.Compare(els[tails[j]].key, e.key) >= 0 })
		prev[i] = -1
		if k > 0 {
			prev[i] = tails[k-1]
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	in := make([]bool, len(els))
	run = make([]elem, len(tails))
	for i, k := tails[len(tails)-1], len(tails)-1; k >= 0; i, k = prev[i], k-1 {
		run[k], in[i] = els[i], true
	}
	for i, e := range els {
		if !in[i] {
			others = append(others, e)
		}
	}
	return run, others
}

// freePages reads the free-page list the meta page names (nil when it has
// none), checking each id lies inside the file's pages in use.
func (pf *pageFile) freePages(m meta) ([]uint64, error) {
	if m.freelist == noFreelist {
		return nil, nil
	}
	if m.freelist < 2 || m.freelist >= min(m.pgid, pf.pages) {
		return nil, fmt.Errorf("%w: the free-page list is out of bounds", errPage)
	}
	head := make([]byte, headerSize+8)
	if _, err := pf.f.ReadAt(head, int64(m.freelist)*int64(pf.pageSize)); err != nil {
		return nil, fmt.Errorf("%w: the free-page list: %v", errPage, err)
	}
	le := binary.LittleEndian
	if le.Uint64(head) != m.freelist || le.Uint16(head[8:]) != flagFreelist {
		return nil, fmt.Errorf("%w: the free-page list is gone", errPage)
	}
	first, n := uint64(headerSize), uint64(le.Uint16(head[10:]))
	if n == 0xFFFF {
		first, n = headerSize+8, le.Uint64(head[16:])
	}
	span := (uint64(le.Uint32(head[12:])) + 1) * uint64(pf.pageSize)
	if m.freelist+span/uint64(pf.pageSize) > min(m.pgid, pf.pages) || first+n*8 > span {
		return nil, fmt.Errorf("%w: the free-page list runs past its pages", errPage)
	}
	buf := make([]byte, n*8)
	if _, err := pf.f.ReadAt(buf, int64(m.freelist)*int64(pf.pageSize)+int64(first)); err != nil {
		return nil, fmt.Errorf("%w: the free-page list: %v", errPage, err)
	}
	ids := make([]uint64, n)
	for i := range ids {
		if ids[i] = le.Uint64(buf[8*i:]); ids[i] < 2 || ids[i] >= m.pgid {
			return nil, fmt.Errorf("%w: the free-page list names page %d, out of bounds", errPage, ids[i])
		}
	}
	return ids, nil
}
