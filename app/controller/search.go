package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // PACS-rendered previews
	"image/png"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
)

// DefaultK is how many neighbours a search returns when the request does
// not say (the window's result grid).
const DefaultK = 24

// QueryRequest says what to search with: exactly one of Path, ItemID,
// Region or Refine.
type QueryRequest struct {
	Path   string        // a file (need not be in the library)
	ItemID string        // a library item (left out of its results)
	Region *media.Sample // a region cut from a slice; From names the slice's item
	From   string
	Refine string // the current search with this item added as an example

	K      int    // neighbours (DefaultK when 0)
	Filter string // bleve query on metadata ("" for all)
	// WithSample decodes an item query's item too, for the query pane (a
	// missing source still leaves the results).
	WithSample bool
}

// Search is a finished query as the window shows it.
type Search struct {
	*library.Query
	Name   string                 // "c.png", "region 16×16 of c.png", "c.png + 1 example"
	Thumbs map[string]image.Image // results' thumbnails by item id (background jobs only)
	// Vote is the label distribution among the results (library.Vote over
	// the library's labels); Vote.Labelled is 0 when none is labelled.
	Vote library.VoteResult
	base QueryRequest // what Requery repeats: the request before any refining
}

// ErrNoQuery is returned when refining or repeating without a search.
var ErrNoQuery = errors.New("no search to refine or repeat")

// Query searches now (the command line), without changing the current
// search.
func (c *Controller) Query(ctx context.Context, r QueryRequest) (*Search, error) {
	var s *Search
	err := c.do(ctx, Query, func(ctx context.Context) error {
		var err error
		s, err = c.search(ctx, r)
		return err
	})
	return s, err
}

// StartQuery searches in the background. The result becomes the current
// search and reaches deliver, unless a newer search started meanwhile.
func (c *Controller) StartQuery(r QueryRequest, deliver func(*Search, error)) error {
	return Run(c, Query, func(ctx context.Context) (*Search, error) {
		s, err := c.search(ctx, r)
		if err == nil {
			s.Thumbs = c.thumbnails(ctx, s.Results)
		}
		return s, err
	}, func(s *Search, err error) {
		if err == nil {
			c.mu.Lock()
			c.current = s
			c.mu.Unlock()
		}
		deliver(s, err)
	})
}

// Requery repeats the current search (before any refining) with the
// filter last set by SetFilter. Without a current search it does nothing.
func (c *Controller) Requery(deliver func(*Search, error)) error {
	c.mu.Lock()
	cur, filter := c.current, c.filter
	c.mu.Unlock()
	if cur == nil {
		return nil
	}
	r := cur.base
	r.Filter = filter
	return c.StartQuery(r, deliver)
}

// Current is the search last delivered to the window, nil before any.
func (c *Controller) Current() *Search {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// search finds the neighbours, then their vote.
func (c *Controller) search(ctx context.Context, r QueryRequest) (*Search, error) {
	s, err := c.find(ctx, r)
	if err != nil {
		return s, err
	}
	labels, err := c.lib.Labels()
	if err != nil {
		return nil, fmt.Errorf("labels for the vote: %w", err)
	}
	s.Vote = library.Vote(s.Results, labels)
	return s, nil
}

func (c *Controller) find(ctx context.Context, r QueryRequest) (*Search, error) {
	k := r.K
	if k <= 0 {
		k = DefaultK
	}
	switch {
	case r.Path != "":
		q, err := c.lib.QueryFile(ctx, r.Path, k, r.Filter)
		return &Search{Query: q, Name: filepath.Base(r.Path), base: r}, err
	case r.ItemID != "":
		return c.searchItem(ctx, r, k)
	case r.Region != nil:
		q, err := c.lib.QuerySample(ctx, r.Region, k, r.Filter)
		name := fmt.Sprintf("region %d×%d of %s", r.Region.Width, r.Region.Height, r.From)
		return &Search{Query: q, Name: name, base: r}, err
	case r.Refine != "":
		return c.refine(ctx, r, k)
	}
	return nil, errors.New("query: nothing to search with")
}

func (c *Controller) searchItem(ctx context.Context, r QueryRequest, k int) (*Search, error) {
	if err := c.fetchIfRemote(ctx, r.ItemID); err != nil {
		return nil, err
	}
	q, err := c.lib.QueryItem(ctx, r.ItemID, k, r.Filter)
	if err != nil {
		return nil, err
	}
	it, err := c.lib.Item(r.ItemID)
	if err != nil {
		return nil, err
	}
	if r.WithSample {
		q.Sample, _ = c.lib.Load(ctx, r.ItemID) // a missing source still leaves the results
	}
	return &Search{Query: q, Name: filepath.Base(it.Path), base: r}, nil
}

// refine adds an item to the current search as a further example.
func (c *Controller) refine(ctx context.Context, r QueryRequest, k int) (*Search, error) {
	cur := c.Current()
	if cur == nil {
		return nil, ErrNoQuery
	}
	q, err := c.lib.Refine(ctx, cur.Query, r.Refine, k, r.Filter)
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(cur.Name, " + ")
	name := fmt.Sprintf("%s + %d example", first, len(q.Examples))
	return &Search{Query: q, Name: name, base: cur.base}, nil
}

// thumbnails decodes the stored thumbnails of results (missing ones are
// left out).
func (c *Controller) thumbnails(ctx context.Context, results []library.Result) map[string]image.Image {
	items := make([]library.Item, len(results))
	for i, r := range results {
		items[i] = r.Item
	}
	return c.thumbsOf(ctx, items)
}

func (c *Controller) thumbsOf(ctx context.Context, items []library.Item) map[string]image.Image {
	out := make(map[string]image.Image, len(items))
	var remote []library.Item
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		b, err := c.lib.Thumbnail(it.ID)
		if err != nil {
			if library.Remote(it) {
				remote = append(remote, it)
			}
			continue
		}
		if img, err := png.Decode(bytes.NewReader(b)); err == nil {
			out[it.ID] = img
		}
	}
	c.remoteThumbs(ctx, remote, out)
	return out
}

// remoteThumbs renders department results by their PACS, four at a time;
// those that fail are left without a thumbnail.
func (c *Controller) remoteThumbs(ctx context.Context, items []library.Item, out map[string]image.Image) {
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(4)
	for _, it := range items {
		g.Go(func() error {
			b, err := c.lib.RemotePreview(ctx, it, 128)
			if err != nil {
				return nil
			}
			if img, _, err := image.Decode(bytes.NewReader(b)); err == nil {
				mu.Lock()
				out[it.ID] = img
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
}
