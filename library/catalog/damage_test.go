package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// filled makes a catalog of n items (a thumbnail and a vector each) and a
// label on each, closed, and returns its path.
func filled(t *testing.T, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for i := range n {
		id := fmt.Sprintf("item%03d", i)
		entries = append(entries, Entry{Item: Item{ID: id, Kind: "image2d", Path: "/x/" + id + ".png", Added: time.Unix(int64(i), 0)},
			Thumbnail: []byte("\x89PNG\r\n\x1a\n" + strings.Repeat("t", 300)), Model: "m1", Vector: []float32{float32(i), 1}})
	}
	err = errors.Join(c.PutAll(entries), c.SetSetting("model", "m1"))
	for i := range n {
		_, lerr := c.SetIndexedAnnotation("label", fmt.Sprintf("item%03d", i), []byte(`"class"`))
		err = errors.Join(err, lerr)
	}
	if err := errors.Join(err, c.Close()); err != nil {
		t.Fatal(err)
	}
	return p
}

// bucketPage returns the first leaf page of a top-level bucket of the
// catalog at path.
func bucketPage(t *testing.T, path, bucket string) uint64 {
	t.Helper()
	pf, err := openPageFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	m := newest(pf.metas())
	root, err := pf.read(m.root, m.pgid)
	if err != nil {
		t.Fatal(err)
	}
	els, _ := root.elems(nil, nil)
	for _, e := range els {
		if string(e.key) != bucket {
			continue
		}
		id := binary.LittleEndian.Uint64(e.value)
		for id != 0 {
			p, err := pf.read(id, m.pgid)
			if err != nil {
				t.Fatal(err)
			}
			if p.flags == flagLeaf {
				return id
			}
			kids, _ := p.elems(nil, nil)
			id = kids[0].child
		}
	}
	t.Fatalf("no page of bucket %s", bucket)
	return 0
}

func zeroPage(t *testing.T, path string, id uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 4096), int64(id)*4096); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedPageIsErrDamaged: a zeroed page under a
// bucket made bbolt panic ("Page expected to be: N, but self identifies
// as 0") in the reading command, and in a writing one; now the call
// fails with ErrDamaged, every later call with it too, the transaction
// was rolled back (a write transaction can begin: its lock is free), and
// the catalog closes and opens again.
func TestDamagedPageIsErrDamaged(t *testing.T) {
	p := filled(t, 60)
	zeroPage(t, p, bucketPage(t, p, "thumbs"))
	c, err := Open(p)
	if err != nil {
		t.Fatalf("the header is sound, the open should work: %v", err)
	}
	if _, err := c.Thumbnail("item000"); !errors.Is(err, ErrDamaged) {
		t.Fatalf("thumbnail: %v", err)
	}
	if _, err := c.Setting("model"); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a call after the damage was met: %v", err)
	}
	tx, err := c.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.PutAll([]Entry{{Item: Item{ID: "item000", Path: "/x"}, Thumbnail: []byte("png"), Model: "m1", Vector: []float32{1}}})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("a write over the damaged page: %v", err)
	}
	if tx, err := c.db.Begin(true); err != nil {
		t.Fatal(err)
	} else {
		tx.Rollback()
	}
}

// TestHeaderPageLost: with one meta page lost, bbolt
// opened the older state the other names, the last change gone without a
// word; now the open is refused (ErrDamaged), and Salvage takes the
// newest version of the tree (its root carries its transaction id) with
// that last change.
func TestHeaderPageLost(t *testing.T) {
	for page := range uint64(2) {
		t.Run(fmt.Sprint("page ", page), func(t *testing.T) {
			p := filled(t, 5)
			c, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SetIndexedAnnotation("label", "item001", []byte(`"latest"`))
			if err := errors.Join(err, c.Close()); err != nil {
				t.Fatal(err)
			}
			zeroPage(t, p, page)
			if _, err := Open(p); !errors.Is(err, ErrDamaged) {
				t.Fatalf("open with header page %d lost: %v", page, err)
			}
			if _, problems, _ := Inspect(p); len(problems) == 0 {
				t.Fatal("inspect found nothing wrong")
			}
			to := p + ".new"
			got, err := Salvage(p, to, SalvageOptions{})
			if err != nil || got.Items != 5 || got.Annotation["label"] != 5 {
				t.Fatalf("salvage %+v %v", got, err)
			}
			n, err := OpenReadOnly(to)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			if v, err := n.Annotation("label", "item001"); string(v) != `"latest"` || err != nil {
				t.Fatalf("the last change: %q %v", v, err)
			}
		})
	}
}

// TestInspect: a sound catalog has no problem and its census; a zeroed
// page of a bucket is found.
func TestInspect(t *testing.T) {
	p := filled(t, 60)
	census, problems, err := Inspect(p)
	if err != nil || len(problems) > 0 || census.Items != 60 || census.Vectors["m1"] != 60 || census.Annotations() != 60 {
		t.Fatalf("%+v %v %v", census, problems, err)
	}
	zeroPage(t, p, bucketPage(t, p, "thumbs"))
	if _, problems, _ := Inspect(p); len(problems) == 0 {
		t.Fatal("a zeroed page of thumbnails went unseen")
	}
}

// TestSalvageOlderVersion: a page of the newest tree zeroed, the values it
// held come back from the older version of the tree the other meta page
// names (the page it had there is free, not yet written over).
func TestSalvageOlderVersion(t *testing.T) {
	p := filled(t, 60)
	c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	again := Entry{Item: Item{ID: "item000", Kind: "image2d", Path: "/x/item000.png"}, Thumbnail: []byte("png"), Model: "m1", Vector: []float32{0, 1}}
	err = c.PutAll([]Entry{again}) // the first page of items moves
	if err := errors.Join(err, c.Close()); err != nil {
		t.Fatal(err)
	}
	zeroPage(t, p, bucketPage(t, p, "items"))
	got, err := Salvage(p, p+".new", SalvageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Items != 60 || got.Older == 0 || got.Annotation["label"] != 60 {
		t.Fatalf("salvaged %+v", got)
	}
}
