package controller

import (
	"context"
	"errors"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/pacs"
)

// SetDept makes searches use a department index (nil: the library's own
// index again); the controller closes the one it replaces, and Close
// closes the last.
func (c *Controller) SetDept(d *library.DeptIndex) {
	c.mu.Lock()
	old := c.dept
	c.dept = d
	c.mu.Unlock()
	var idx library.Index // a nil *DeptIndex would be a non-nil Index
	if d != nil {
		idx = d
	}
	c.lib.UseIndex(idx)
	if old != nil && old != d {
		old.Close()
	}
}

// Dept is the department index searches use, nil for the library's own.
func (c *Controller) Dept() *library.DeptIndex {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dept
}

// resultItem finds an item of the current search's results that is not
// in the library (a department index result).
func (c *Controller) resultItem(id string) (library.Item, bool) {
	cur := c.Current()
	if cur == nil || cur.Query == nil {
		return library.Item{}, false
	}
	for _, r := range cur.Results {
		if r.Item.ID == id {
			return r.Item, true
		}
	}
	return library.Item{}, false
}

// fetchIfRemote brings a department result into the library (its series
// pulled from the PACS it names) before it is loaded.
func (c *Controller) fetchIfRemote(ctx context.Context, id string) error {
	if _, err := c.lib.Item(id); !errors.Is(err, library.ErrNotFound) {
		return err
	}
	it, ok := c.resultItem(id)
	if !ok {
		return library.ErrNotFound
	}
	_, err := c.lib.Fetch(ctx, it, nil)
	return err
}

// Sync brings the department index d up to date with a PACS (see
// library.Sync). It runs as a pull: refused with ErrBusy while another
// pull, import or reindex runs.
func (c *Controller) Sync(ctx context.Context, pc *pacs.Client, d *library.DeptIndex, o library.SyncOptions, progress func(done, total int)) (*library.SyncReport, error) {
	var rep *library.SyncReport
	err := c.do(ctx, Pull, func(ctx context.Context) error {
		var err error
		rep, err = c.lib.Sync(ctx, pc, d, o, progress)
		return err
	})
	if rep == nil {
		rep = &library.SyncReport{Failed: []library.Failure{}}
	}
	return rep, err
}

// StartUseDept opens the department index at url in the background (a
// newer call supersedes it) and makes searches use it; url "" goes back to
// the library's own index at once. key gives the API key, in the job too
// (it may read the keyring). deliver gets the index (nil for the library's
// own) or why it could not be opened, in which case searches keep the
// index they had.
func (c *Controller) StartUseDept(url string, key func() (string, error), deliver func(*library.DeptIndex, error)) error {
	if url == "" {
		c.Cancel(Connect)
		c.SetDept(nil)
		deliver(nil, nil)
		return nil
	}
	return Run(c, Connect, func(ctx context.Context) (*library.DeptIndex, error) {
		apiKey, err := key()
		if err != nil {
			return nil, err
		}
		d, err := c.lib.OpenDept(ctx, url, library.DeptOptions{APIKey: apiKey})
		if err == nil && ctx.Err() != nil { // superseded meanwhile
			d.Close()
			return nil, ctx.Err()
		}
		return d, err
	}, func(d *library.DeptIndex, err error) {
		if err == nil {
			c.SetDept(d)
		}
		deliver(d, err)
	})
}
