// Package ctxio makes readers stop when their context is done, so that a
// cancelled import or a closing window interrupts a parser in the middle of
// a large file instead of waiting for it to finish.
package ctxio

import (
	"context"
	"io"
)

// Reader returns r reading until ctx is done; after that every Read fails
// with ctx.Err().
func Reader(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil { // never cancelled: nothing to check
		return r
	}
	return &reader{ctx: ctx, r: r}
}

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c *reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
