package controller

import (
	"context"
	"image"
	"path/filepath"
	"sort"
	"strings"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
)

// Order is an order of the library listing.
type Order int

// The orders of the library listing.
const (
	Newest Order = iota
	Oldest
	ByModality
	ByKind
	ByName
	ByStudyDate
	numOrders
)

// Orders lists every order, in the order a menu shows them.
var Orders = []Order{Newest, Oldest, ByModality, ByKind, ByName, ByStudyDate}

var orderLabels = [numOrders]string{"Newest first", "Oldest first", "Modality", "Kind", "File name", "Study date"}

// String is the order's label in the window.
func (o Order) String() string {
	if o < 0 || o >= numOrders {
		return orderLabels[Newest]
	}
	return orderLabels[o]
}

// OrderOf returns the order with this label (Newest for an unknown one).
func OrderOf(label string) Order {
	for _, o := range Orders {
		if o.String() == label {
			return o
		}
	}
	return Newest
}

// Listing is what the library grid shows.
type Listing struct {
	Items  []library.Item         // those passing the filter, in order
	Total  int                    // items in the library
	Thumbs map[string]image.Image // by item id
}

// SetFilter sets the search box's query (a bleve query string) for the
// listing and for Requery.
func (c *Controller) SetFilter(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.filter = text
}

// Filter is the search box's query as last set.
func (c *Controller) Filter() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.filter
}

// SetOrder sets the listing's order and reports whether it changed.
func (c *Controller) SetOrder(o Order) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := c.order != o
	c.order = o
	return changed
}

// Browse lists the items that pass the filter, in the chosen order.
func (c *Controller) Browse() (*Listing, error) {
	c.mu.Lock()
	filter, order := c.filter, c.order
	c.mu.Unlock()
	items, err := c.lib.Items()
	if err != nil {
		return nil, err
	}
	l := &Listing{Total: len(items)}
	if strings.TrimSpace(filter) != "" {
		match, err := c.lib.Match(filter)
		if err != nil {
			return nil, err
		}
		kept := items[:0]
		for _, it := range items {
			if match[it.ID] {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	SortItems(items, order)
	l.Items = items
	return l, nil
}

// StartRefresh lists the library in the background, with thumbnails; a
// newer refresh supersedes it.
func (c *Controller) StartRefresh(deliver func(*Listing, error)) error {
	return Run(c, Refresh, func(ctx context.Context) (*Listing, error) {
		l, err := c.Browse()
		if err == nil {
			l.Thumbs = c.thumbsOf(ctx, l.Items)
		}
		return l, err
	}, deliver)
}

// SortItems orders items in place; ties keep the import order.
func SortItems(items []library.Item, o Order) {
	key := func(it library.Item) string {
		switch o {
		case ByModality:
			return it.Modality
		case ByKind:
			return it.Kind
		case ByName:
			return strings.ToLower(filepath.Base(it.Path))
		case ByStudyDate:
			return it.StudyDate
		}
		return ""
	}
	switch o {
	case Newest:
		sort.SliceStable(items, func(i, j int) bool { return items[i].Added.After(items[j].Added) })
	case Oldest:
	default:
		sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	}
}

// Loaded is an item (or a file) decoded for viewing.
type Loaded struct {
	Sample *media.Sample
	ID     string // "" for a file outside the library
	Name   string // the file name
	Item   library.Item
	// Measurements are those kept for the item (none for a file).
	Measurements []measure.Measurement
	// QueryMeasurements are those of the current search's item, for a
	// comparison with an item query.
	QueryMeasurements []measure.Measurement
	// Annotations are what was written about a comparison (nil, with
	// AnnotationsErr, when they could not be read: the comparison shows
	// anyway).
	Annotations    *Annotations
	AnnotationsErr error
}

// StartView decodes a library item for the Viewer tab; a newer view
// supersedes it (and cancels its decoding).
func (c *Controller) StartView(id string, deliver func(*Loaded, error)) error {
	return Run(c, View, func(ctx context.Context) (*Loaded, error) { return c.load(ctx, id) }, deliver)
}

// StartViewFile decodes a file for the Viewer tab: the library item that
// holds it when there is one, else the file itself.
func (c *Controller) StartViewFile(path string, deliver func(*Loaded, error)) error {
	return Run(c, View, func(ctx context.Context) (*Loaded, error) {
		if id, err := c.ItemHolding(path); err == nil && id != "" {
			return c.load(ctx, id)
		}
		s, err := c.lib.ReadFile(ctx, path)
		if err != nil {
			return nil, err
		}
		return &Loaded{Sample: s, Name: filepath.Base(path)}, nil
	}, deliver)
}

// StartCompare decodes a result of the current search to show beside the
// query; it becomes the result compared.
func (c *Controller) StartCompare(id string, deliver func(*Loaded, error)) error {
	c.mu.Lock()
	c.comparing = id
	c.mu.Unlock()
	return Run(c, Compare, func(ctx context.Context) (*Loaded, error) {
		l, err := c.load(ctx, id)
		if err != nil {
			return nil, err
		}
		l.Annotations, l.AnnotationsErr = c.Annotations(id)
		if q := c.Current(); q != nil && q.Query != nil && q.ItemID != "" {
			l.QueryMeasurements, err = c.lib.Measurements(q.ItemID)
		}
		return l, err
	}, deliver)
}

// Comparing is the result shown beside the query, "" for none.
func (c *Controller) Comparing() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.comparing
}

func (c *Controller) load(ctx context.Context, id string) (*Loaded, error) {
	if err := c.fetchIfRemote(ctx, id); err != nil {
		return nil, err
	}
	it, err := c.lib.Item(id)
	if err != nil {
		return nil, err
	}
	s, err := c.lib.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	ms, err := c.lib.Measurements(id)
	if err != nil {
		return nil, err
	}
	return &Loaded{Sample: s, ID: id, Name: filepath.Base(it.Path), Item: it, Measurements: ms}, nil
}
