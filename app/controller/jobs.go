package controller

import (
	"context"
	"errors"
	"fmt"
)

// Kind names a kind of background job. Each kind has a policy: a newer
// query, view, comparison or refresh supersedes the older one (cancelled,
// its result dropped); imports and reindexing run one at a time (a second
// is refused with ErrBusy); removals each run to the end.
type Kind int

// The kinds of job.
const (
	Import   Kind = iota // files into the library
	Reindex              // re-embed the library with another model
	Query                // search for similar cases
	View                 // decode an item (or a file) for the Viewer tab
	Compare              // decode a result for the comparison
	Refresh              // list the library for the grid
	Remove               // take an item out of the library
	Pull                 // retrieve series from a PACS into the library
	Find                 // search a PACS
	Preview              // fetch rendered previews of PACS studies
	Connect              // open a department index
	Annotate             // store a note, a label or measurements
	Export               // write an anonymised export, a picture or a key-image note
	AddModel             // check a model against its manifest and keep a copy (Settings → Models)
	numKinds
)

var kindNames = [numKinds]string{"import", "reindex", "query", "view", "compare", "refresh", "remove", "pull", "find", "preview", "connect", "annotate", "export", "add model"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

type policy int

const (
	supersede policy = iota // a newer job cancels the older; only the newest delivers
	exclusive               // one at a time; another is refused with ErrBusy
	every                   // each runs and delivers
)

func (k Kind) policy() policy {
	switch k {
	case Import, Reindex, Pull, Export, AddModel:
		return exclusive
	case Remove, Annotate:
		return every
	}
	return supersede
}

// Errors of the job runner.
var (
	ErrBusy   = errors.New("a job of this kind is already running")
	ErrClosed = errors.New("the controller is closed")
)

// job is one running job.
type job struct {
	kind   Kind
	seq    uint64
	cancel context.CancelFunc
}

// begin registers a job of kind k whose context ends with parent, with a
// Cancel of its kind, with a newer job of its kind (when it supersedes), or
// with Close.
func (c *Controller) begin(parent context.Context, k Kind) (context.Context, *job, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, nil, ErrClosed
	}
	if k.policy() == exclusive && len(c.running[k]) > 0 {
		return nil, nil, fmt.Errorf("%s: %w", k, ErrBusy)
	}
	for other := range numKinds {
		if k.conflicts(other) && len(c.running[other]) > 0 {
			return nil, nil, fmt.Errorf("%s while a %s runs: %w", k, other, ErrBusy)
		}
	}
	if k.policy() == supersede {
		for _, old := range c.running[k] {
			old.cancel()
		}
	}
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(c.root, cancel)
	c.seq[k]++
	j := &job{kind: k, seq: c.seq[k], cancel: func() { stop(); cancel() }}
	c.running[k] = append(c.running[k], j)
	c.active++
	return ctx, j, nil
}

// end unregisters a job.
func (c *Controller) end(j *job) {
	c.mu.Lock()
	jobs := c.running[j.kind]
	for i, r := range jobs {
		if r == j {
			c.running[j.kind] = append(jobs[:i], jobs[i+1:]...)
			break
		}
	}
	c.active--
	if c.active == 0 {
		c.idle.Broadcast()
	}
	c.mu.Unlock()
	j.cancel()
}

// isCurrent reports whether j's result may still be shown: the controller is
// open and, for a kind that supersedes, no newer job of the kind started.
func (c *Controller) isCurrent(j *job) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	return j.kind.policy() != supersede || c.seq[j.kind] == j.seq
}

// Run starts work in the background as a job of kind k. When it returns,
// deliver gets its result through the controller's Post (on the window's
// UI goroutine), unless a newer job of the same kind has started meanwhile
// or the controller has closed: a stale result is dropped. The error is
// ErrBusy when k runs one at a time and one is running, ErrClosed after
// Close.
func Run[T any](c *Controller, k Kind, work func(ctx context.Context) (T, error), deliver func(T, error)) error {
	ctx, j, err := c.begin(context.Background(), k)
	if err != nil {
		return err
	}
	go func() {
		defer c.end(j)
		v, err := work(ctx)
		if !c.isCurrent(j) {
			return
		}
		c.post(func() {
			if c.isCurrent(j) { // a newer request may have come in meanwhile
				deliver(v, err)
			}
		})
	}()
	return nil
}

// do runs work now, on the caller's goroutine, as a job of kind k whose
// context ends with ctx or with Close (the command line's jobs).
func (c *Controller) do(ctx context.Context, k Kind, work func(ctx context.Context) error) error {
	ctx, j, err := c.begin(ctx, k)
	if err != nil {
		return err
	}
	defer c.end(j)
	return work(ctx)
}

// Cancel stops the running jobs of kind k; what an import stored stays.
func (c *Controller) Cancel(k Kind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, j := range c.running[k] {
		j.cancel()
	}
}

// Running reports whether a job of kind k is running.
func (c *Controller) Running(k Kind) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.running[k]) > 0
}

// Wait blocks until no job is running (tests, scripted start-up).
func (c *Controller) Wait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.active > 0 {
		c.idle.Wait()
	}
}
