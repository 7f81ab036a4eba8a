package catalog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Salvaged is what could be read from a damaged catalog.
type Salvaged struct {
	Entries  []Entry           // items with their thumbnail and their vector under the catalog's model
	Settings map[string]string // the library's settings (its model)
	// Annotations are what users wrote (notes, labels, measurements), by
	// kind and key, as SetAnnotation stores them.
	Annotations map[string]map[string][]byte
	Problems    []string // what could not be read, one line each
}

// Salvage reads what it can of the catalog at path, read-only: every item
// record, thumbnail and vector (under model) that bbolt still reaches.
// Reading stops at the first damaged page of a bucket; the rest of that
// bucket is listed as a problem.
func Salvage(path, model string) (*Salvaged, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s := &Salvaged{Settings: map[string]string{}}
	items := map[string]Item{}
	thumbs, vecs := map[string][]byte{}, map[string][]byte{}
	s.read(db, bSettings, func(k, v []byte) { s.Settings[string(k)] = string(v) })
	if model == "" {
		model = s.Settings["model"]
	}
	s.read(db, bItems, func(k, v []byte) {
		var it Item
		if json.Unmarshal(v, &it) == nil && it.ID == string(k) {
			items[it.ID] = it
		}
	})
	s.read(db, bThumbs, func(k, v []byte) { thumbs[string(k)] = append([]byte(nil), v...) })
	s.readAnnotations(db)
	s.read(db, vecBucket(model), func(k, v []byte) { vecs[string(k)] = append([]byte(nil), v...) })
	if missed := s.scan(path, items, thumbs); missed > 0 {
		s.Problems = append(s.Problems, fmt.Sprintf("%d item records found by scanning pages, not through the catalog's tree "+
			"(one removed earlier may be among them)", missed))
	}
	for id, it := range items {
		e := Entry{Item: it, Thumbnail: thumbs[id], Model: model}
		if v, ok := vecs[id]; ok {
			e.Vector = decodeVec(v)
		}
		s.Entries = append(s.Entries, e)
	}
	return s, nil
}

// scan adds the item records and thumbnails a page scan finds that the
// tree did not give, and returns how many items it added.
func (s *Salvaged) scan(path string, items map[string]Item, thumbs map[string][]byte) int {
	found, foundThumbs, err := scanItems(path, pageSizeOf(path))
	if err != nil {
		s.Problems = append(s.Problems, "page scan: "+err.Error())
		return 0
	}
	added := 0
	for id, it := range found {
		if _, ok := items[id]; !ok {
			items[id] = it
			added++
		}
	}
	for id, b := range foundThumbs {
		if _, ok := thumbs[id]; !ok {
			thumbs[id] = b
		}
	}
	return added
}

// pageSizeOf reads the page size from the first meta page (4096 when it
// cannot).
func pageSizeOf(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 4096
	}
	defer f.Close()
	b := make([]byte, 28)
	if _, err := f.ReadAt(b, 0); err != nil || binary.LittleEndian.Uint32(b[16:]) != boltMagic {
		return 4096
	}
	if ps := int(binary.LittleEndian.Uint32(b[24:])); ps >= 512 && ps <= 1<<16 {
		return ps
	}
	return 4096
}

// read visits a bucket's pairs until it ends or a damaged page stops it.
func (s *Salvaged) read(db *bolt.DB, bucket []byte, fn func(k, v []byte)) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("bucket %s: reading stopped at a damaged page (%v)", bucket, p))
		}
	}()
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return fmt.Errorf("bucket %s is gone", bucket)
		}
		return b.ForEach(func(k, v []byte) error {
			fn(k, v)
			return nil
		})
	})
	if err != nil {
		s.Problems = append(s.Problems, err.Error())
	}
}

// readAnnotations reads every annotation bbolt still reaches, kind by
// kind; a kind that stops at a damaged page keeps what came before it.
func (s *Salvaged) readAnnotations(db *bolt.DB) {
	s.Annotations = map[string]map[string][]byte{}
	for _, kind := range s.annotationKinds(db) {
		docs := map[string][]byte{}
		s.Annotations[string(kind)] = docs
		s.readNested(db, kind, func(k, v []byte) { docs[string(k)] = append([]byte(nil), v...) })
	}
}

// annotationKinds lists the kinds of annotation the catalog holds, as far
// as a damaged page lets it.
func (s *Salvaged) annotationKinds(db *bolt.DB) (kinds [][]byte) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("annotations: reading stopped at a damaged page (%v)", p))
		}
	}()
	db.View(func(tx *bolt.Tx) error {
		if top := tx.Bucket(bAnnotations); top != nil {
			return top.ForEachBucket(func(k []byte) error {
				kinds = append(kinds, append([]byte(nil), k...))
				return nil
			})
		}
		return nil
	})
	return kinds
}

// readNested is read for a kind's bucket inside the annotations bucket.
func (s *Salvaged) readNested(db *bolt.DB, kind []byte, fn func(k, v []byte)) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("annotations %s: reading stopped at a damaged page (%v)", kind, p))
		}
	}()
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAnnotations).Bucket(kind).ForEach(func(k, v []byte) error {
			fn(k, v)
			return nil
		})
	})
}

// openReadOnly opens a possibly damaged database for reading only, without
// its free-page list; bbolt's panics and faults become ErrDamaged.
func openReadOnly(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("%w beyond salvage (%v)", ErrDamaged, p)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, ErrLocked
	}
	return db, err
}

// scanItems reads item records straight from the file's pages, for when
// the tree that leads to them is lost (its root page cut off, say): every
// leaf page whose id matches its place, every value that is an item record
// under its own id. Pages freed by later writes hold older copies, so an
// item removed since may come back; with the tree gone there is no telling.
func scanItems(path string, pageSize int) (map[string]Item, map[string][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	items, thumbs := map[string]Item{}, map[string][]byte{}
	for off := 0; off+pageSize <= len(data); off += pageSize {
		p := data[off:]
		if binary.LittleEndian.Uint64(p) != uint64(off/pageSize) || binary.LittleEndian.Uint16(p[8:])&0x02 == 0 {
			continue // not a leaf page where it should be
		}
		span := min(len(p), (int(binary.LittleEndian.Uint32(p[12:]))+1)*pageSize)
		leafPairs(p[:span], int(binary.LittleEndian.Uint16(p[10:])), func(k, v []byte) {
			var it Item
			switch {
			case len(v) > 8 && string(v[:8]) == "\x89PNG\r\n\x1a\n":
				thumbs[string(k)] = append([]byte(nil), v...)
			case json.Unmarshal(v, &it) == nil && it.ID == string(k) && it.Path != "":
				items[it.ID] = it
			}
		})
	}
	return items, thumbs, nil
}

// leafPairs visits the key/value pairs of a leaf page (bbolt's layout: a
// 16-byte header, then 16-byte element headers, each pointing to its key
// and value), skipping sub-bucket headers and anything out of bounds.
func leafPairs(p []byte, count int, fn func(k, v []byte)) {
	for i := range count {
		at := 16 + i*16
		if at+16 > len(p) {
			return
		}
		e := p[at:]
		flags, pos := binary.LittleEndian.Uint32(e), int(binary.LittleEndian.Uint32(e[4:]))
		ks, vs := int(binary.LittleEndian.Uint32(e[8:])), int(binary.LittleEndian.Uint32(e[12:]))
		start := at + pos
		if flags&0x01 != 0 || pos < 0 || ks < 0 || vs < 0 || start+ks+vs > len(p) || start < 0 {
			continue
		}
		fn(p[start:start+ks], p[start+ks:start+ks+vs])
	}
}
