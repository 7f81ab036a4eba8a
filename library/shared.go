package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/m3ret/viewer/library/index"
)

// A Shared library (the window's) changes hands: it reads with the lock
// shared and its catalog and metadata index open read-only; for a change
// it closes them, takes the lock exclusive, opens them for writing, and
// back again afterwards. While another process changes the library its
// catalog is closed (calls fail with ErrLocked, "try again") until that
// process is done; the indexes in memory are reloaded when the catalog's
// generation moved meanwhile. The functions here run with modeMu held.

// toWrite takes the lock exclusive for a change. While other processes
// read, it waits (bounded by ctx, said once), trying again every
// sharedPoll; between tries it reads on (its shared lock taken again).
func (l *Library) toWrite(ctx context.Context) error {
	told := false
	for {
		ok, err := l.lk.TryLock(true)
		if err != nil {
			return errors.Join(err, l.readAgain())
		}
		if ok {
			if err := l.suspend(); err != nil {
				return err
			}
			return l.resume(false)
		}
		if err := l.readAgain(); err != nil {
			return err
		}
		if !told {
			told = true
			l.tellWaiting()
		}
		if err := pause(ctx, sharedPoll); err != nil {
			if l.suspended {
				l.resumeLater()
			}
			return err
		}
	}
}

// readAgain takes the lock shared again after a failed try, reopening
// what was closed; when a writer got in meanwhile, it closes the catalog
// and the metadata index at once (the writer's own open waits for that).
func (l *Library) readAgain() error {
	ok, err := l.lk.TryLock(false)
	switch {
	case err != nil:
		return err
	case !ok:
		return l.suspend()
	case l.suspended:
		return l.resume(true)
	}
	return nil
}

// toRead ends a change: the vector index is saved, the catalog and the
// metadata index reopened read-only with the lock shared. When another
// writer takes the lock in between, toRead waits for it (wait, bounded by
// ctx) or leaves that to a goroutine (see resumeLater).
func (l *Library) toRead(ctx context.Context, wait bool) error {
	var errs []error
	if l.dirty {
		if err := l.saveVectors(); err != nil {
			errs = append(errs, err)
		} else {
			l.dirty = false
		}
	}
	if gen, err := l.cat.Generation(); err == nil {
		l.gen = gen // the indexes in memory are this library's own work
	}
	if err := l.suspend(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	ok, err := l.lk.TryLock(false)
	switch {
	case err != nil:
		errs = append(errs, err)
	case ok:
		errs = append(errs, l.resume(true))
	case wait:
		if err := l.acquire(ctx, false); err != nil {
			return errors.Join(append(errs, err)...)
		}
		errs = append(errs, l.resume(true))
	default:
		l.resumeLater()
	}
	return errors.Join(errs...)
}

// suspend closes the catalog and the metadata index (waiting for the
// calls under way).
func (l *Library) suspend() error {
	if l.suspended {
		return nil
	}
	l.suspended = true
	return errors.Join(l.meta.Suspend(), l.cat.Suspend())
}

// resume reopens the catalog and the indexes, read-only or for writing.
func (l *Library) resume(readOnly bool) error {
	if err := l.cat.Resume(readOnly); err != nil {
		return err
	}
	l.suspended = false
	return l.resumeIndexes(readOnly)
}

// resumeIndexes opens the metadata index (read-only: as it is on disk
// when it is up to date, else rebuilt in memory; for writing: rebuilt on
// disk when stale) and reloads the vector index when the catalog moved
// since it was loaded.
func (l *Library) resumeIndexes(readOnly bool) error {
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	if readOnly {
		err = l.readMeta(gen)
	} else {
		err = l.openMeta()
	}
	if err != nil {
		return err
	}
	if l.vectors() == nil || gen != l.gen {
		if err := l.loadVectors(); err != nil {
			return err
		}
	}
	l.gen = gen
	return nil
}

// readMeta opens the metadata index read-only when it is up to date with
// the catalog (generation gen), else builds one in memory.
func (l *Library) readMeta(gen uint64) error {
	m, err := index.OpenMetaReadOnly(filepath.Join(l.dir, "meta.bleve"))
	if err == nil {
		if l.metaCurrent(m, gen) {
			return l.meta.Adopt(m)
		}
		m.Close()
		l.note("the metadata index is behind the catalog; searching a copy rebuilt in memory " +
			"(the next import or m3ret repair saves one)")
	} else if gen > 0 {
		l.note(fmt.Sprintf("the metadata index could not be read (%v); searching a copy rebuilt in memory", err))
	}
	mem, err := index.NewMemMeta()
	if err != nil {
		return err
	}
	if err := l.fillMeta(mem); err != nil {
		mem.Close()
		return err
	}
	return l.meta.Adopt(mem)
}

// resumeLater waits in a goroutine for the writer that took the lock to
// be done, then reads again (a Shared library whose change ended, or was
// cancelled, while another process took the lock).
func (l *Library) resumeLater() {
	if l.resuming {
		return
	}
	l.resuming = true
	go func() {
		for {
			time.Sleep(sharedPoll)
			l.modeMu.Lock()
			done := l.closed || l.writers > 0 || !l.suspended
			if !done {
				if ok, err := l.lk.TryLock(false); err != nil || ok {
					done = true
					if err == nil {
						err = l.resume(true)
					}
					if err != nil {
						l.note(fmt.Sprintf("could not open the library again: %v", err))
					}
				}
			}
			if done {
				l.resuming = false
			}
			l.modeMu.Unlock()
			if done {
				return
			}
		}
	}()
}

// stopResuming ends resumeLater's goroutine (at Close).
func (l *Library) stopResuming() {
	l.modeMu.Lock()
	defer l.modeMu.Unlock()
	l.closed = true
}

// mkdirUser makes the library folder, readable by the user alone; an
// existing one is left as it is (a reader writes nothing).
func mkdirUser(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create library: %w", err)
	}
	return nil
}
