package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writer writes a salvaged catalog, in transactions of a bounded size.
type writer struct {
	db     *bolt.DB
	tx     *bolt.Tx
	bkts   map[string]*bolt.Bucket // of tx, by path
	size   int                     // bytes put in tx
	census *Census
}

// txBytes bounds what one transaction of a salvage writes.
const txBytes = 16 << 20

// newWriter makes a new catalog at path (a leftover of a salvage cut short
// is removed first), readable by the user alone, with the catalog's buckets.
func newWriter(path string, census *Census) (*writer, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("new catalog: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("new catalog: %w", err)
	}
	w := &writer{db: db, census: census}
	for _, b := range buckets {
		if _, err := w.bucket([]string{string(b)}); err != nil {
			w.close(false)
			return nil, err
		}
	}
	return w, nil
}

// bucket returns the bucket at path in the transaction under way (one
// begun if none is), making it and those above it as needed.
func (w *writer) bucket(path []string) (*bolt.Bucket, error) {
	if w.tx == nil {
		tx, err := w.db.Begin(true)
		if err != nil {
			return nil, err
		}
		w.tx, w.bkts, w.size = tx, map[string]*bolt.Bucket{}, 0
	}
	key := strings.Join(path, "\x00")
	if b := w.bkts[key]; b != nil {
		return b, nil
	}
	b, err := w.tx.CreateBucketIfNotExists([]byte(path[0]))
	for _, name := range path[1:] {
		if err == nil {
			b, err = b.CreateBucketIfNotExists([]byte(name))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", joinPath(path), err)
	}
	w.bkts[key] = b
	return b, nil
}

// put writes k = v in the bucket at path (unless, with onlyNew, k is
// there) and says whether it did.
func (w *writer) put(path []string, k, v []byte, onlyNew bool) (bool, error) {
	if len(path) == 0 {
		return false, nil // a value at the top, where the catalog keeps none
	}
	b, err := w.bucket(path)
	if err != nil {
		return false, err
	}
	had := b.Get(k) != nil
	if had && onlyNew {
		return false, nil
	}
	if err := b.Put(clone(k), clone(v)); err != nil {
		return false, fmt.Errorf("bucket %s: %w", joinPath(path), err)
	}
	if !had {
		w.census.count(path)
	}
	if w.size += len(k) + len(v); w.size > txBytes {
		return true, w.commit()
	}
	return true, nil
}

func (w *writer) commit() error {
	if w.tx == nil {
		return nil
	}
	tx := w.tx
	w.tx, w.bkts = nil, nil
	return tx.Commit()
}

// finish writes the settings a salvaged catalog starts with: the library
// id, the generations one past the damaged catalog's (the indexes made
// from it are stale), the stamp; and commits.
func (w *writer) finish(libraryID string) error {
	b, err := w.bucket([]string{string(bSettings)})
	if err != nil {
		return err
	}
	for _, k := range [][]byte{keyGeneration, keyAnnotationGeneration} {
		g := uint64(0)
		if v := b.Get(k); len(v) == 8 {
			g = binary.LittleEndian.Uint64(v)
		}
		if err := b.Put(k, binary.LittleEndian.AppendUint64(nil, g+1)); err != nil {
			return err
		}
	}
	if libraryID != "" {
		if err := b.Put(keyLibraryID, []byte(libraryID)); err != nil {
			return err
		}
	}
	if err := stamp(w.tx); err != nil {
		return err
	}
	return w.commit()
}

// close commits what is under way (with keep; else rolls it back) and
// closes the file.
func (w *writer) close(keep bool) error {
	var err error
	if keep {
		err = w.commit()
	} else if w.tx != nil {
		err = w.tx.Rollback()
		w.tx = nil
	}
	return errors.Join(err, w.db.Close())
}
