package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
)

// Access says what an open library may do, and how it shares the library
// folder with other processes. The folder's lock file (m3ret.lock) is held
// shared by readers and exclusive by a writer: readers never wait for each
// other; a writer waits until no one else holds it, and a reader waits
// while a writer does. A wait is bounded by the caller's context and said
// once through OpenOptions.Waiting.
type Access int

const (
	// Write holds the lock exclusive from Open to Close: for commands that
	// change the library (import, reindex, repair, pull, sync).
	Write Access = iota
	// Read holds the lock shared from Open to Close and writes nothing: an
	// index behind the catalog is rebuilt in memory (and Notes says so).
	// Changes fail with ErrReadOnly. A library that does not exist yet is
	// made first (under the exclusive lock, for that moment).
	Read
	// Shared reads like Read, and takes the lock exclusive for each change
	// (Import, Remove, Pull, Reindex), sharing it again afterwards: the
	// window's, open for as long as it is. When it opens the library
	// alone, it mends stale indexes on disk first.
	Shared
)

// OpenOptions say how to open a library.
type OpenOptions struct {
	Access Access
	// Waiting is called when another process holds the library and this
	// one starts waiting for it (once per wait); nil says nothing.
	Waiting func()
}

const (
	lockFile = "m3ret.lock"
	// lockPoll is how often a waiting process tries the lock again.
	lockPoll = 100 * time.Millisecond
	// sharedPoll is how often a Shared library waiting to write tries;
	// each try lets its shared lock go for a moment.
	sharedPoll = 250 * time.Millisecond
)

// errNeedWriter: the library is not made yet; only a writer can make it.
var errNeedWriter = errors.New("the library is not made yet")

// lockState is the lock side of a Library.
type lockState struct {
	access    Access
	lk        *catalog.Lock
	waiting   atomic.Pointer[func()]
	modeMu    sync.Mutex // the fields below, and the changes of hands
	writers   int        // changes under way (Shared)
	gen       uint64     // the catalog generation the indexes in memory are at
	suspended bool       // catalog and metadata index closed (Shared, between two holders)
	closed    bool
	resuming  bool // a goroutine is waiting to read again (see resumeLater)
}

// OpenWith opens the library in dir for emb's embedding space with the
// access o asks for, waiting (bounded by ctx) while another process holds
// it in a way that excludes this one.
func OpenWith(ctx context.Context, dir string, emb Embedder, o OpenOptions) (*Library, error) {
	return OpenFor(ctx, dir, o, func(string) (Embedder, error) { return emb, nil })
}

// OpenFor is OpenWith for a caller that chooses the embedder by the model
// the library records ("" for a new library): choose is called once, under
// the lock, so the library is waited for once.
func OpenFor(ctx context.Context, dir string, o OpenOptions, choose func(recorded string) (Embedder, error)) (*Library, error) {
	l := &Library{dir: dir, meta: &index.Meta{}}
	l.access = o.Access
	l.SetWaiting(o.Waiting)
	if err := l.openLocked(ctx, choose); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// SetWaiting sets what is called when this library starts waiting for
// another process (nil: nothing).
func (l *Library) SetWaiting(fn func()) { l.waiting.Store(&fn) }

// Access is how the library was opened.
func (l *Library) Access() Access { return l.access }

func (l *Library) openLocked(ctx context.Context, choose func(string) (Embedder, error)) error {
	if err := lockFolder(l); err != nil {
		return err
	}
	if l.access == Write {
		if err := l.acquire(ctx, true); err != nil {
			return err
		}
		return l.openWrite(choose)
	}
	if l.access == Shared { // alone: mend what is stale on disk, then share
		if ok, err := l.lk.TryLock(true); err != nil || ok {
			return errors.Join(err, l.openWriteThenRead(ctx, choose, ok))
		}
	}
	if err := l.acquire(ctx, false); err != nil {
		return err
	}
	err := l.openRead(choose)
	if !errors.Is(err, errNeedWriter) {
		return err
	}
	if l.cat != nil {
		l.cat.Close()
		l.cat = nil
	}
	if err := l.acquire(ctx, true); err != nil {
		return err
	}
	return l.openWriteThenRead(ctx, choose, true)
}

// openWriteThenRead opens the library for writing (held exclusive), then
// shares the lock and reads on.
func (l *Library) openWriteThenRead(ctx context.Context, choose func(string) (Embedder, error), held bool) error {
	if !held {
		return nil
	}
	if err := l.openWrite(choose); err != nil {
		return err
	}
	l.modeMu.Lock()
	defer l.modeMu.Unlock()
	return l.toRead(ctx, true)
}

// lockFolder opens the folder's lock file (making the folder if needed).
func lockFolder(l *Library) error {
	if err := mkdirUser(l.dir); err != nil {
		return err
	}
	lk, err := catalog.OpenLock(filepath.Join(l.dir, lockFile))
	if err != nil {
		return err
	}
	l.lk = lk
	return nil
}

// acquire takes the lock, waiting until ctx is done while another process
// holds it; the wait is said once.
func (l *Library) acquire(ctx context.Context, exclusive bool) error {
	told := false
	for {
		ok, err := l.lk.TryLock(exclusive)
		if err != nil || ok {
			return err
		}
		if !told {
			told = true
			l.tellWaiting()
		}
		if err := pause(ctx, lockPoll); err != nil {
			return err
		}
	}
}

// pause waits d, or returns the error of a wait stopped by ctx.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w; stopped waiting for it (%w)", ErrLocked, ctx.Err())
	case <-t.C:
		return nil
	}
}

func (l *Library) tellWaiting() {
	if fn := l.waiting.Load(); fn != nil && *fn != nil {
		(*fn)()
	}
}

// unlock lets the lock go and closes its file.
func (l *Library) unlock() error {
	if l.lk == nil {
		return nil
	}
	return l.lk.Close()
}

// choose reads the model the catalog records and takes the embedder
// choose gives for it.
func (l *Library) choose(choose func(string) (Embedder, error)) error {
	have, err := l.cat.Setting(settingModel)
	if err != nil {
		return err
	}
	emb, err := choose(have)
	if err != nil {
		return err
	}
	l.emb.set(emb)
	return nil
}

// openRead opens the catalog read-only and the indexes for reading (the
// lock held shared); errNeedWriter when there is no library to read yet.
func (l *Library) openRead(choose func(string) (Embedder, error)) error {
	cat, err := catalog.OpenReadOnly(filepath.Join(l.dir, "catalog.db"))
	if errors.Is(err, fs.ErrNotExist) {
		return errNeedWriter
	}
	if err != nil {
		return err
	}
	l.cat = cat
	if have, err := cat.Setting(settingModel); err != nil || have == "" {
		return errors.Join(err, errNeedWriter)
	}
	if err := l.choose(choose); err != nil {
		return err
	}
	if err := l.checkModel(); err != nil {
		return err
	}
	return l.resumeIndexes(true)
}

// checkModel refuses a library built with another model than l.emb's.
func (l *Library) checkModel() error {
	have, err := l.cat.Setting(settingModel)
	if err != nil {
		return err
	}
	if model := l.emb.ModelID(); have != model {
		return fmt.Errorf("%w: it holds %s embeddings, asked for %s", ErrModelMismatch, have, model)
	}
	return nil
}

// writing runs fn, a change, with the lock exclusive (see beginWrite).
func (l *Library) writing(ctx context.Context, fn func() error) error {
	end, err := l.beginWrite(ctx)
	if err != nil {
		return err
	}
	err = fn()
	return errors.Join(err, end())
}

// beginWrite takes the lock exclusive for a change, until end is called:
// a Write library holds it already; a Shared one takes it now (waiting,
// bounded by ctx, while other processes read); a Read library refuses
// with ErrReadOnly.
func (l *Library) beginWrite(ctx context.Context) (end func() error, err error) {
	switch l.access {
	case Write:
		return func() error { return nil }, nil
	case Read:
		return nil, ErrReadOnly
	}
	l.modeMu.Lock()
	defer l.modeMu.Unlock()
	if l.writers == 0 {
		if err := l.toWrite(ctx); err != nil {
			return nil, err
		}
	}
	l.writers++
	return func() error {
		l.modeMu.Lock()
		defer l.modeMu.Unlock()
		if l.writers--; l.writers > 0 {
			return nil
		}
		return l.toRead(ctx, false)
	}, nil
}

// noteEnd ends a change whose caller has no error left to return: what
// failed goes to Notes.
func (l *Library) noteEnd(end func() error) {
	if err := end(); err != nil {
		l.note(fmt.Sprintf("after the change: %v", err))
	}
}

// OpenForReindexWith is OpenForReindex waiting (bounded by ctx) while
// another process uses the library.
func OpenForReindexWith(ctx context.Context, dir string, emb Embedder, o OpenOptions) (*Library, error) {
	path := filepath.Join(dir, "catalog.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no library in %s: %w", dir, err)
	}
	l := &Library{dir: dir, meta: &index.Meta{}, vecs: newVectors()}
	l.emb.set(emb)
	l.access = Write
	l.SetWaiting(o.Waiting)
	err := lockFolder(l)
	if err == nil {
		err = l.acquire(ctx, true)
	}
	if err == nil {
		l.cat, err = catalog.Open(path)
	}
	if err == nil {
		var meta *index.Meta
		if meta, _, err = index.OpenMeta(filepath.Join(dir, "meta.bleve")); err == nil {
			err = l.meta.Adopt(meta)
		}
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}
