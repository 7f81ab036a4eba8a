package catalog

import (
	"encoding/binary"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Annotations are what the user adds to items (measurements, notes,
// labels): documents kept per kind and key (an item id, or a key a kind
// makes of several), apart from the item records an import writes, so
// that re-indexing never touches them. They live in the "annotations"
// bucket, one nested bucket per kind, made at the first write (a catalog
// opened read-only reads none until then).
var bAnnotations = []byte("annotations")

// Annotation returns the document of kind under key, nil when there is
// none.
func (c *Catalog) Annotation(kind, key string) ([]byte, error) {
	var out []byte
	err := c.view(func(tx *bolt.Tx) error {
		if b := annotationBucket(tx, kind); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = append([]byte(nil), v...)
			}
		}
		return nil
	})
	return out, err
}

// Annotations returns every document of kind, by key.
func (c *Catalog) Annotations(kind string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := c.view(func(tx *bolt.Tx) error {
		b := annotationBucket(tx, kind)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	return out, err
}

// SetAnnotation stores the document of kind under key; an empty doc
// deletes it.
func (c *Catalog) SetAnnotation(kind, key string, doc []byte) error {
	return c.update(func(tx *bolt.Tx) error { return putAnnotation(tx, kind, key, doc) })
}

// SetAnnotations stores several documents of kind in one transaction.
func (c *Catalog) SetAnnotations(kind string, docs map[string][]byte) error {
	return c.update(func(tx *bolt.Tx) error {
		for key, doc := range docs {
			if err := putAnnotation(tx, kind, key, doc); err != nil {
				return err
			}
		}
		return nil
	})
}

func putAnnotation(tx *bolt.Tx, kind, key string, doc []byte) error {
	if key == "" {
		return fmt.Errorf("annotation %s: empty key", kind)
	}
	if len(doc) == 0 {
		if b := annotationBucket(tx, kind); b != nil {
			return b.Delete([]byte(key))
		}
		return nil
	}
	top, err := tx.CreateBucketIfNotExists(bAnnotations)
	if err != nil {
		return err
	}
	b, err := top.CreateBucketIfNotExists([]byte(kind))
	if err != nil {
		return err
	}
	return b.Put([]byte(key), doc)
}

func annotationBucket(tx *bolt.Tx, kind string) *bolt.Bucket {
	top := tx.Bucket(bAnnotations)
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(kind))
}

// deleteAnnotations removes what every kind holds about item id: under
// the key id, and under keys that join id with other ids by NUL (a pair of
// a query and a result).
func deleteAnnotations(tx *bolt.Tx, id string) error {
	top := tx.Bucket(bAnnotations)
	if top == nil {
		return nil
	}
	return top.ForEachBucket(func(kind []byte) error {
		b := top.Bucket(kind)
		var doomed [][]byte
		err := b.ForEach(func(k, _ []byte) error {
			for _, part := range strings.Split(string(k), "\x00") {
				if part == id {
					doomed = append(doomed, append([]byte(nil), k...))
					break
				}
			}
			return nil
		})
		for _, k := range doomed {
			if err == nil {
				err = b.Delete(k)
			}
		}
		return err
	})
}

var keyAnnotationGeneration = []byte("annotation-generation")

// SetIndexedAnnotation is SetAnnotation for a kind the library's metadata
// index holds (notes, labels): it counts the change in the annotation
// generation, in the same transaction, and returns the new generation; an
// index that records another is behind (a crash between the two writes).
func (c *Catalog) SetIndexedAnnotation(kind, key string, doc []byte) (uint64, error) {
	var g uint64
	err := c.update(func(tx *bolt.Tx) error {
		if err := putAnnotation(tx, kind, key, doc); err != nil {
			return err
		}
		b := tx.Bucket(bSettings)
		if v := b.Get(keyAnnotationGeneration); len(v) == 8 {
			g = binary.LittleEndian.Uint64(v)
		}
		g++
		return b.Put(keyAnnotationGeneration, binary.LittleEndian.AppendUint64(nil, g))
	})
	return g, err
}

// AnnotationGeneration counts the changes SetIndexedAnnotation made.
func (c *Catalog) AnnotationGeneration() (uint64, error) {
	var g uint64
	err := c.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bSettings).Get(keyAnnotationGeneration); len(v) == 8 {
			g = binary.LittleEndian.Uint64(v)
		}
		return nil
	})
	return g, err
}
