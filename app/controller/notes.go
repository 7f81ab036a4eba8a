package controller

import (
	"context"
	"errors"
	"sort"

	"github.com/m3ret/viewer/library"
)

// Annotations are what the window shows and edits about a comparison: the
// note on the (query, result) pair with its verdict, the result's own note
// and its label.
type Annotations struct {
	Pair   library.Note // Query and Result name the pair ("" Query: none can be kept)
	Note   string       // the result item's note
	Label  string       // the result item's label
	Labels []string     // every label in use, for choosing one
}

// ErrNoPair is returned when notes are saved for a comparison whose query
// cannot be named (a region, a refined search).
var ErrNoPair = errors.New("this query cannot carry pair notes (a region or a refined search)")

// Annotations reads what was written about the current search's query and
// the result id.
func (c *Controller) Annotations(result string) (*Annotations, error) {
	a := &Annotations{}
	query := library.QueryKey(c.queryOf())
	var err error
	if query != "" {
		if a.Pair, err = c.lib.PairNote(query, result); err != nil {
			return nil, err
		}
	}
	a.Pair.Query, a.Pair.Result = query, result // a pair without a note yet too
	n, err := c.lib.Note(result)
	if err != nil {
		return nil, err
	}
	if a.Label, err = c.lib.Label(result); err != nil {
		return nil, err
	}
	a.Note = n.Text
	a.Labels, err = c.labelsInUse()
	return a, err
}

func (c *Controller) queryOf() *library.Query {
	if s := c.Current(); s != nil {
		return s.Query
	}
	return nil
}

func (c *Controller) labelsInUse() ([]string, error) {
	all, err := c.lib.Labels()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range all {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SaveAnnotations stores a's pair note (when it has a query), the result's
// note and label, as one job (the library may have to wait for another
// process to let it write).
func (c *Controller) SaveAnnotations(ctx context.Context, a Annotations) error {
	return c.do(ctx, Annotate, func(ctx context.Context) error { return c.saveAnnotations(ctx, a) })
}

// StartSaveAnnotations is SaveAnnotations in the background.
func (c *Controller) StartSaveAnnotations(a Annotations, deliver func(error)) error {
	return Run(c, Annotate, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.saveAnnotations(ctx, a)
	}, func(_ struct{}, err error) { deliver(err) })
}

func (c *Controller) saveAnnotations(ctx context.Context, a Annotations) error {
	if a.Pair.Query != "" {
		if err := c.lib.SetPairNote(ctx, a.Pair); err != nil {
			return err
		}
	} else if a.Pair.Text != "" || a.Pair.Verdict != "" {
		return ErrNoPair
	}
	if err := c.lib.SetNote(ctx, a.Pair.Result, a.Note); err != nil {
		return err
	}
	return c.lib.SetLabel(ctx, a.Pair.Result, a.Label)
}
