package catalog

import (
	"encoding/binary"
	"encoding/json"
)

// leaves calls fn with every leaf page of the file that says it is the
// page where it lies, whatever tree (or none) it belongs to.
func (pf *pageFile) leaves(fn func(p *page)) {
	head := make([]byte, headerSize)
	for id := uint64(2); id < pf.pages; id++ {
		if _, err := pf.f.ReadAt(head, int64(id)*int64(pf.pageSize)); err != nil {
			return
		}
		if binary.LittleEndian.Uint64(head) != id || binary.LittleEndian.Uint16(head[8:]) != flagLeaf {
			continue
		}
		if p, err := pf.read(id, pf.pages); err == nil {
			fn(p)
		}
	}
}

// scan reads item records and thumbnails straight from the file's
// leaf pages, for the ranges of those buckets no version of the tree gave
// (its pages gone): a value that is an item record under its own id, or a
// PNG, under a key in such a range. Pages freed by later writes hold older
// copies, so an item removed since may come back; there is no telling.
func (s *salvage) scan() {
	items, thumbs := []string{string(bItems)}, []string{string(bThumbs)}
	if !s.inLost(items, nil, nil) && !s.inLost(thumbs, nil, nil) {
		return
	}
	s.pf.leaves(func(p *page) {
		els, _ := p.elems(nil, nil)
		for _, e := range els {
			switch {
			case e.bucket:
			case isPNG(e.value) && s.holds(thumbs, e.key):
				s.put(thumbs, e.key, e.value, true)
			case isItemRecord(e.key, e.value) && s.holds(items, e.key):
				if s.put(items, e.key, e.value, true) {
					s.out.Scanned++
				}
			}
		}
	})
}

func isPNG(v []byte) bool { return len(v) > 8 && string(v[:8]) == "\x89PNG\r\n\x1a\n" }

// isItemRecord reports whether v is an item record stored under k.
func isItemRecord(k, v []byte) bool {
	if len(v) == 0 || v[0] != '{' {
		return false
	}
	var it Item
	return json.Unmarshal(v, &it) == nil && it.ID == string(k) && it.Path != ""
}
