// Package controller holds what the window and the command line work on:
// the open library, the current search and its results, the item chosen
// in the grid, the library listing's filter and order, and the running
// jobs; and the operations on them (import, query, refine, view, compare,
// remove, reindex, refresh). It knows nothing of Fyne: the window is a set
// of views over it, the command line calls the same operations, and its
// tests run without ONNX Runtime or a display.
//
// Every background job has a context, a cancel and a sequence number (see
// Kind and Run): a result that arrives after a newer request of the same
// kind is dropped, and Close cancels every job (the context reaches the
// decoders and the embedder) before it closes the library.
//
// Threading: the operations may be called from any goroutine. Results of
// background jobs are handed to their deliver callbacks through Post, which
// the window sets to run them on its UI goroutine.
package controller

import (
	"context"
	"errors"
	"sync"

	"github.com/m3ret/viewer/library"
)

// Options configure a controller.
type Options struct {
	// Post runs a job's delivery; the window passes a function that runs it
	// on the UI goroutine. Nil runs it on the job's own goroutine.
	Post func(func())
}

// Controller is the state of one open library and the jobs on it.
type Controller struct {
	lib  *library.Library
	post func(func())
	root context.Context
	stop context.CancelFunc

	mu      sync.Mutex
	idle    *sync.Cond
	closed  bool
	seq     [numKinds]uint64
	running [numKinds][]*job
	active  int

	current   *Search            // the last search shown
	selected  string             // the library item chosen in the grid
	comparing string             // the result shown beside the query
	filter    string             // the search box, as last submitted
	order     Order              // the library listing's order
	dept      *library.DeptIndex // the department index searched, nil for the library's own
}

// New makes a controller over an open library; Close closes the library.
func New(lib *library.Library, o Options) *Controller {
	post := o.Post
	if post == nil {
		post = func(f func()) { f() }
	}
	root, stop := context.WithCancel(context.Background())
	c := &Controller{lib: lib, post: post, root: root, stop: stop}
	c.idle = sync.NewCond(&c.mu)
	return c
}

// Library is the open library (for what the operations here do not cover:
// counts, notes, the model id).
func (c *Controller) Library() *library.Library { return c.lib }

// Close cancels every job, waits for them to return (their decoders stop
// at the cancel) and closes the library. Results still on their way are
// dropped. Later calls return the first call's error.
func (c *Controller) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.stop()
	c.Wait()
	if d := c.Dept(); d != nil {
		d.Close()
	}
	return c.lib.Close()
}

// Import reads files and folders into the library now (the command line);
// see library.Import. It is refused with ErrBusy while another runs.
func (c *Controller) Import(ctx context.Context, paths []string, progress func(done, total int)) (*library.Report, error) {
	var rep *library.Report
	err := c.do(ctx, Import, func(ctx context.Context) error {
		var err error
		rep, err = c.lib.Import(ctx, paths, progress)
		return err
	})
	if rep == nil {
		rep = &library.Report{}
	}
	return rep, err
}

// StartImport imports in the background; progress is called from the job's
// goroutine, deliver (through Post) with the summary. Cancel(Import) stops
// it, keeping what it stored.
func (c *Controller) StartImport(paths []string, progress func(done, total int), deliver func(*library.Report, error)) error {
	return Run(c, Import, func(ctx context.Context) (*library.Report, error) {
		rep, err := c.lib.Import(ctx, paths, progress)
		if rep == nil {
			rep = &library.Report{}
		}
		return rep, err
	}, deliver)
}

// Reindex re-embeds the library with its embedder (a library opened with
// library.OpenForReindex); see library.Reindex.
func (c *Controller) Reindex(ctx context.Context, progress func(done, total int)) (*library.Report, error) {
	var rep *library.Report
	err := c.do(ctx, Reindex, func(ctx context.Context) error {
		var err error
		rep, err = c.lib.Reindex(ctx, progress)
		return err
	})
	if rep == nil {
		rep = &library.Report{}
	}
	return rep, err
}

// StartRemove takes an item out of the library in the background (never
// its source files) and forgets it as the chosen item.
func (c *Controller) StartRemove(id string, deliver func(error)) error {
	c.mu.Lock()
	if c.selected == id {
		c.selected = ""
	}
	c.mu.Unlock()
	return Run(c, Remove, func(context.Context) (struct{}, error) {
		return struct{}{}, c.lib.Remove(id)
	}, func(_ struct{}, err error) { deliver(err) })
}

// Select records the item chosen in the grid ("" for none).
func (c *Controller) Select(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.selected = id
}

// Selected is the item chosen in the grid, "" for none.
func (c *Controller) Selected() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.selected
}

// Item returns one library item.
func (c *Controller) Item(id string) (library.Item, error) { return c.lib.Item(id) }

// ItemHolding returns the id of the library item with the file at path
// among its sources, or "".
func (c *Controller) ItemHolding(path string) (string, error) {
	items, err := c.lib.Items()
	if err != nil {
		return "", err
	}
	for _, it := range items {
		for _, f := range it.Sources() {
			if f == path {
				return it.ID, nil
			}
		}
	}
	return "", nil
}

// IsCancel reports whether err means a job was cancelled (by the user, a
// newer request or Close) rather than failed.
func IsCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed)
}
