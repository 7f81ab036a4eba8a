package catalog

import (
	"fmt"
	"io/fs"
	"os"

	bolt "go.etcd.io/bbolt"
)

// errSuspended is what a catalog between two openings answers (see
// Suspend): the library is changing hands.
var errSuspended = fmt.Errorf("%w: it is being changed; try again when that is done", ErrLocked)

// OpenReadOnly opens the catalog file at path for reading: bbolt takes a
// shared lock and writes nothing. A catalog that is not there, or was
// never finished (its buckets not made), is refused with fs.ErrNotExist:
// only a writer can make it.
func OpenReadOnly(path string) (*Catalog, error) {
	db, err := openRead(path)
	if err != nil {
		return nil, err
	}
	return &Catalog{path: path, db: db, ro: true}, nil
}

func openRead(path string) (*bolt.DB, error) {
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		return nil, fmt.Errorf("open catalog: %w", fs.ErrNotExist) // bbolt would create it
	}
	db, err := openBolt(path, true)
	if err != nil {
		return nil, err
	}
	err = guarded(func() error {
		return db.View(func(tx *bolt.Tx) error {
			for _, b := range buckets {
				if tx.Bucket(b) == nil {
					return fmt.Errorf("catalog without %s: %w", b, fs.ErrNotExist)
				}
			}
			return nil
		})
	})
	if err == nil {
		err = checkClaim(db, path)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ReadOnly reports whether the catalog is open for reading only.
func (c *Catalog) ReadOnly() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ro
}

// Suspend closes the file, waiting for the transactions under way; until
// Resume, every call fails with ErrLocked. The library suspends its
// catalog to let the lock go (to change hands between reading and
// writing).
func (c *Catalog) Suspend() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return nil
	}
	err := c.db.Close()
	c.db = nil
	return err
}

// Resume opens the file again, for reading only or for writing.
func (c *Catalog) Resume(readOnly bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db != nil {
		if c.ro == readOnly {
			return nil
		}
		if err := c.db.Close(); err != nil {
			return err
		}
		c.db = nil
	}
	open := openWrite
	if readOnly {
		open = openRead
	}
	db, err := open(c.path)
	if err != nil {
		return err
	}
	c.db, c.ro = db, readOnly
	c.damaged.Store(nil)
	return nil
}

// Close closes the file.
func (c *Catalog) Close() error { return c.Suspend() }
