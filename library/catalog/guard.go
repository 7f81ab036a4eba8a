package catalog

import (
	"errors"
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// bbolt trusts its file: a damaged page makes it panic (an assertion, an
// index out of range) or fault (an address past the end of the file) in
// the middle of a transaction. Every transaction runs under guard, which
// turns either into ErrDamaged: bbolt's View and Update roll the
// transaction back as the panic passes through them (releasing its locks,
// so the catalog still closes), and the catalog refuses every later call
// with the same error: once a page is known damaged, nothing more is read
// from or written over it until it is repaired.

// damagedBy is the error a recovered panic becomes. bbolt's messages name
// pages, never keys or values; anything else is named by its type alone.
func damagedBy(p any) error {
	var what string
	switch v := p.(type) {
	case string:
		what = v
	case error:
		what = v.Error()
	default:
		what = fmt.Sprintf("%T", p)
	}
	if len(what) > 160 {
		what = what[:160] + "…"
	}
	return &panicked{what: what}
}

// panicked is ErrDamaged met as a panic or a fault.
type panicked struct{ what string }

func (p *panicked) Error() string { return fmt.Sprintf("%v (%s)", ErrDamaged, p.what) }
func (p *panicked) Unwrap() error { return ErrDamaged }

// guard runs fn (see guarded); damage met as a panic becomes the
// catalog's state (see broken).
func (c *Catalog) guard(fn func() error) error {
	err := guarded(fn)
	if p := (*panicked)(nil); errors.As(err, &p) {
		c.damaged.Store(&err)
	}
	return err
}

// guarded runs fn, turning a panic or a fault into ErrDamaged.
func guarded(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = damagedBy(p)
		}
	}()
	return fn()
}

// broken is the damage a transaction met (nil when none).
func (c *Catalog) broken() error {
	if p := c.damaged.Load(); p != nil {
		return *p
	}
	return nil
}

func (c *Catalog) view(fn func(*bolt.Tx) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.db == nil {
		return errSuspended
	}
	if err := c.broken(); err != nil {
		return err
	}
	return c.guard(func() error { return c.db.View(fn) })
}

func (c *Catalog) update(fn func(*bolt.Tx) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.db == nil {
		return errSuspended
	}
	if err := c.broken(); err != nil {
		return err
	}
	err := c.guard(func() error {
		return c.db.Update(func(tx *bolt.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return stamp(tx)
		})
	})
	if errors.Is(err, bolt.ErrDatabaseReadOnly) {
		return ErrReadOnly
	}
	return err
}

// stamp records the transaction's id as the sequence of the settings
// bucket, whose header lies in the catalog's root page: every version of
// the catalog's tree in the file (the current one, older ones in pages
// since freed) carries in its root the id of the transaction that wrote
// it, and a salvage takes the newest tree by it, even when the meta page
// that named it is lost.
func stamp(tx *bolt.Tx) error {
	b := tx.Bucket(bSettings)
	if b == nil {
		return nil // a catalog being made: the buckets come next
	}
	return b.SetSequence(uint64(tx.ID()))
}
