package catalog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// walker visits a bbolt tree of buckets page by page (see pages.go): every
// key/value it can read, and every key range it cannot, with why. It never
// stops at a damaged page: it goes on with the pages beside it.
type walker struct {
	pf    *pageFile
	limit uint64          // the tree's pages lie below it (its meta page's high-water mark)
	seen  map[uint64]bool // pages reached (with their overflow): one reached twice is a loop
	// pair receives a bucket's key/value (path: the bucket's names, top
	// first). The slices are the walker's: copy what is kept.
	pair func(path []string, k, v []byte)
	// lost receives a key range [lo, hi) (nil: open) of a bucket that
	// could not be read; lo == hi == nil with a nil path is the whole tree.
	lost func(path []string, lo, hi []byte, why error)
	// stray receives a value of the bucket at path whose key a damaged
	// page scrambled (see page.sorted): a salvage may find its key in it.
	stray func(path []string, v []byte)
	// want, when set, says whether to read a bucket's key range at all
	// (a salvage reading an older copy for what the newest lost).
	want func(path []string, lo, hi []byte) bool
	// pages counts the pages read.
	pages int
}

func newWalker(pf *pageFile, limit uint64) *walker {
	return &walker{pf: pf, limit: limit, seen: map[uint64]bool{},
		pair: func([]string, []byte, []byte) {}, lost: func([]string, []byte, []byte, error) {},
		stray: func([]string, []byte) {}}
}

// tree walks the tree whose root bucket's page is root.
func (w *walker) tree(root uint64) {
	w.node(nil, root, nil, nil, 0)
}

// bucket walks a nested bucket, from its value in its parent (a 16-byte
// header: its root page, or 0 and an inline page after it).
func (w *walker) bucket(path []string, v []byte, depth int) {
	if len(v) < 16 {
		w.lost(path, nil, nil, fmt.Errorf("%w: a bucket header is cut short", errPage))
		return
	}
	if root := binary.LittleEndian.Uint64(v); root != 0 {
		w.node(path, root, nil, nil, depth+1)
		return
	}
	if w.want != nil && !w.want(path, nil, nil) {
		return
	}
	p, err := inlinePage(v)
	if err != nil {
		w.lost(path, nil, nil, err)
		return
	}
	w.leaf(path, p, nil, nil, depth)
}

// node walks the page id, which holds the keys of [lo, hi) of the bucket
// at path.
func (w *walker) node(path []string, id uint64, lo, hi []byte, depth int) {
	if w.want != nil && !w.want(path, lo, hi) {
		return
	}
	if depth > maxDepth || w.seen[id] {
		w.lost(path, lo, hi, fmt.Errorf("%w: page %d is reached twice", errPage, id))
		return
	}
	p, err := w.pf.read(id, w.limit)
	if err != nil {
		w.lost(path, lo, hi, err)
		return
	}
	w.pages++
	for i := range uint64(len(p.buf) / w.pf.pageSize) {
		w.seen[id+i] = true
	}
	if p.flags == flagLeaf {
		w.leaf(path, p, lo, hi, depth)
		return
	}
	els, err := p.elems(lo, hi)
	if err != nil {
		w.lost(path, lo, hi, err) // the children it names cannot be trusted to cover the range
	}
	for i, e := range els {
		clo, chi := e.key, hi
		if i == 0 {
			clo = lo
		}
		if i+1 < len(els) {
			chi = els[i+1].key
		}
		w.node(path, e.child, clo, chi, depth+1)
	}
}

// leaf visits a leaf page's pairs and walks the buckets it holds.
func (w *walker) leaf(path []string, p *page, lo, hi []byte, depth int) {
	els, strays, err := p.sorted(lo, hi)
	if err != nil {
		w.lost(path, lo, hi, err) // what it held apart from els
	}
	for _, e := range els {
		if e.bucket {
			w.bucket(append(path[:len(path):len(path)], string(e.key)), e.value, depth)
			continue
		}
		w.pair(path, e.key, e.value)
	}
	for _, e := range strays {
		if !e.bucket {
			w.stray(path, e.value)
		}
	}
}

// keyRange is a range [lo, hi) (nil: open) of the keys of the bucket at
// path: of its pairs, or of its nested buckets' names with all they hold.
type keyRange struct {
	path   []string
	lo, hi []byte
}

func (r keyRange) String() string { return strings.Join(r.path, "/") }

// in reports whether x lies in [lo, hi).
func (r keyRange) in(x []byte) bool {
	return (r.lo == nil || bytes.Compare(x, r.lo) >= 0) && (r.hi == nil || bytes.Compare(x, r.hi) < 0)
}

// holds reports whether the pair under key k of the bucket at path lies
// in the range (in it, or in a bucket inside the range).
func (r keyRange) holds(path []string, k []byte) bool {
	d := len(r.path)
	if d > len(path) || !slices.Equal(r.path, path[:d]) {
		return false
	}
	if d == len(path) {
		return r.in(k)
	}
	return r.in([]byte(path[d]))
}

// overlaps reports whether the keys [lo, hi) of the bucket at path may
// hold some of the range.
func (r keyRange) overlaps(path []string, lo, hi []byte) bool {
	d := len(r.path)
	switch {
	case d <= len(path) && slices.Equal(r.path, path[:d]) && d < len(path):
		return r.in([]byte(path[d]))
	case d <= len(path) && slices.Equal(r.path, path[:d]):
		return (r.hi == nil || lo == nil || bytes.Compare(lo, r.hi) < 0) && (r.lo == nil || hi == nil || bytes.Compare(r.lo, hi) < 0)
	case d > len(path) && slices.Equal(r.path[:len(path)], path):
		k := []byte(r.path[len(path)])
		return (lo == nil || bytes.Compare(k, lo) >= 0) && (hi == nil || bytes.Compare(k, hi) < 0)
	}
	return false
}
