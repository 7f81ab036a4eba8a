package controller

import (
	"context"

	"github.com/m3ret/viewer/library"
)

// Reembedded is what a re-embed delivers.
type Reembedded struct {
	Report *library.Report
	// New is the embedder load gave (nil when it failed). Unless Switched,
	// the caller closes it; once Switched, the library uses it (and no
	// longer the old one, which the caller may close).
	New      library.Embedder
	Switched bool // even when the error says something failed after the switch
}

// StartReembed moves the library to another model in the background, as
// a Reindex job (see library.Reembed): load gives the model's embedder,
// in the job, for loading a model takes a moment. Searches go on with the
// library's model and index until the new ones are complete; then the
// library switches at once, and a department index, built for the old
// model, is left for the library's own (Requery then searches the new
// space with the current search's request). Cancel(Reindex) stops it: the
// library stays on its model. Imports and pulls are refused (ErrBusy)
// while it runs.
func (c *Controller) StartReembed(load func(ctx context.Context) (library.Embedder, error), progress func(done, total int),
	deliver func(Reembedded, error)) error {
	return Run(c, Reindex, func(ctx context.Context) (Reembedded, error) {
		emb, err := load(ctx)
		if err != nil {
			return Reembedded{Report: &library.Report{}}, err
		}
		rep, err := c.lib.Reembed(ctx, emb, progress)
		if rep == nil {
			rep = &library.Report{}
		}
		r := Reembedded{Report: rep, New: emb, Switched: c.lib.ModelID() == emb.ModelID()}
		if r.Switched {
			c.switched()
		}
		return r, err
	}, deliver)
}

// switched leaves a department index, built for the model the library
// left.
func (c *Controller) switched() {
	if c.Dept() != nil {
		c.SetDept(nil)
	}
}

// conflicts reports whether a job of kind k may not start while one of
// kind other runs: re-embedding excludes the jobs that add items (they
// would wait for it, their progress standing still).
func (k Kind) conflicts(other Kind) bool {
	adds := func(k Kind) bool { return k == Import || k == Pull }
	return (k == Reindex && adds(other)) || (adds(k) && other == Reindex)
}
