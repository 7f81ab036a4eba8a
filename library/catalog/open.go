package catalog

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openBolt opens the database after a look at its header pages (see
// checkHeader): a file bbolt would read past the end of (which kills the
// process with SIGBUS), or would silently read an older state of (a meta
// page lost), is refused with ErrDamaged before bbolt maps it; what bbolt
// still panics on, or faults on, becomes ErrDamaged too.
func openBolt(path string, readOnly bool) (db *bolt.DB, err error) {
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, damagedBy(p)
		}
	}()
	// The library's lock file (see Lock) is taken before the catalog is
	// opened, so bbolt's own lock is free at once, or within moments (a
	// window closing its read-only handle as a writer gets in); the
	// timeout holds off an m3ret from before the lock file.
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: readOnly})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	return db, nil
}

// checkHeader reads the pages bbolt trusts when it opens a file (a
// missing or empty one is a new database): both meta pages must be sound
// (bbolt falls back to the older one when the newer is lost, dropping the
// last change without a word), the file as long as the newer counts, its
// free-page list there and naming pages inside the file, and its root
// page there. A few pages, whatever the catalog's size.
func checkHeader(path string) error {
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		return nil // bbolt creates it, or says why not
	}
	pf, err := openPageFile(path)
	if err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	defer pf.Close()
	ms := pf.metas()
	switch {
	case !ms[0].valid && !ms[1].valid:
		return fmt.Errorf("%w: no valid header", ErrDamaged)
	case !ms[0].valid || !ms[1].valid:
		return fmt.Errorf("%w: one of its two header pages is lost", ErrDamaged)
	}
	m := newest(ms)
	if m.pgid > pf.pages {
		return fmt.Errorf("%w: %d bytes, its header counts %d", ErrDamaged, pf.pages*uint64(pf.pageSize), m.pgid*uint64(pf.pageSize))
	}
	if _, err := pf.freePages(m); err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if _, err := pf.read(m.root, m.pgid); err != nil {
		return fmt.Errorf("%w: its root page is lost (%v)", ErrDamaged, err)
	}
	return nil
}

// newest is the meta page of the latest transaction among the valid ones.
func newest(ms [2]meta) meta {
	if !ms[0].valid || (ms[1].valid && ms[1].txid > ms[0].txid) {
		return ms[1]
	}
	return ms[0]
}
