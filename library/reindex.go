package library

import (
	"context"
)

// OpenForReindex opens a library whatever model built it, for Reindex only:
// searching it before Reindex has finished would mix embedding spaces.
func OpenForReindex(dir string, emb Embedder) (*Library, error) {
	return OpenForReindexWith(context.Background(), dir, emb, OpenOptions{})
}

// Reindex moves a library opened with OpenForReindex to its embedder's
// model the way Reembed does (every item embedded again, reading each
// source file again, aside; then the switch in one step), and rebuilds the
// metadata index from the catalog. Items already embedded under this model
// are skipped, so switching back to an earlier model costs nothing. Items
// whose source is gone or has changed are listed as failures and stay in
// the catalog without a vector in the new space. A cancelled reindex leaves
// the library on its old model.
func (l *Library) Reindex(ctx context.Context, progress func(done, total int)) (*Report, error) {
	rep, err := l.Reembed(ctx, l.emb.get(), progress)
	if err != nil {
		return rep, err
	}
	return rep, l.refillMeta()
}
