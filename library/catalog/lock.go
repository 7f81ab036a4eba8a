package catalog

import (
	"errors"
	"fmt"
	"os"
)

// ErrReadOnly is returned by a change to a catalog opened for reading.
var ErrReadOnly = errors.New("the library is open for reading only")

// Lock is a library's lock file: held shared by the processes that read
// the library, exclusive by the one that changes it. It is an advisory
// lock of the operating system (flock on Unix, LockFileEx on Windows), so
// a killed process never leaves it held.
type Lock struct {
	f    *os.File
	held int // 0 none, 1 shared, 2 exclusive
}

// OpenLock opens (creating if needed) the lock file at path, holding no
// lock yet. A folder the user cannot write to is locked through an
// existing file opened for reading.
func OpenLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		var rerr error
		if f, rerr = os.Open(path); rerr != nil {
			return nil, fmt.Errorf("open the library's lock file: %w", err)
		}
	}
	return &Lock{f: f}, nil
}

// TryLock takes the lock, shared or exclusive, without waiting: false when
// another process holds it in a way that excludes this one. A lock already
// held is let go first (a shared lock is not turned into an exclusive one
// in place: Windows cannot).
func (l *Lock) TryLock(exclusive bool) (bool, error) {
	want := 1
	if exclusive {
		want = 2
	}
	if l.held == want {
		return true, nil
	}
	if err := l.Unlock(); err != nil {
		return false, err
	}
	ok, err := tryLock(l.f, exclusive)
	if err != nil {
		return false, fmt.Errorf("lock the library: %w", err)
	}
	if ok {
		l.held = want
	}
	return ok, nil
}

// Exclusive reports whether the lock is held exclusively.
func (l *Lock) Exclusive() bool { return l.held == 2 }

// Unlock lets the lock go (nothing when none is held).
func (l *Lock) Unlock() error {
	if l.held == 0 {
		return nil
	}
	l.held = 0
	if err := unlock(l.f); err != nil {
		return fmt.Errorf("unlock the library: %w", err)
	}
	return nil
}

// Close lets the lock go and closes the file.
func (l *Lock) Close() error {
	return errors.Join(l.Unlock(), l.f.Close())
}
