package ingest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// What reading one archive's members may cost in one import: inflated
// bytes (every reader of a member inflates it again: the sniff, the header,
// the decode, the hash), and time.
const (
	// InflateFactor times an archive's declared size, plus 64 MiB of
	// slack, is what its members may inflate to in all.
	InflateFactor = 4
	// ArchiveTimeBase plus a second per ArchiveTimeRate bytes declared is
	// how long reading an archive's members may take.
	ArchiveTimeBase = 2 * time.Minute
	ArchiveTimeRate = 16 << 20
)

type budgetKey struct{}

// budgets are the archive budgets of one import, by archive path.
type budgets struct {
	mu sync.Mutex
	by map[string]*archiveBudget
}

type archiveBudget struct {
	limit    int64
	used     atomic.Int64
	deadline time.Time
}

// WithArchiveBudget makes the reads under ctx share one budget per archive
// (see InflateFactor and ArchiveTimeBase): a member read past it fails
// with ErrArchive, so that an archive of many highly compressed members
// cannot keep an import inflating for hours.
func WithArchiveBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, budgetKey{}, &budgets{by: map[string]*archiveBudget{}})
}

// budgetFor returns the budget of archive under ctx, nil when there is none.
func budgetFor(ctx context.Context, archive string, declared uint64) *archiveBudget {
	bs, _ := ctx.Value(budgetKey{}).(*budgets)
	if bs == nil {
		return nil
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.by[archive]
	if b == nil {
		b = &archiveBudget{
			limit:    int64(InflateFactor*declared) + memberInMemory,
			deadline: time.Now().Add(ArchiveTimeBase + time.Duration(declared/ArchiveTimeRate)*time.Second),
		}
		bs.by[archive] = b
	}
	return b
}

// charge counts n inflated bytes, failing once the budget is spent.
func (b *archiveBudget) charge(n int) error {
	switch {
	case b.used.Add(int64(n)) > b.limit:
		return fmt.Errorf("%w: its members inflated to more than %d bytes in all (decompression bomb?)", ErrArchive, b.limit)
	case time.Now().After(b.deadline):
		return fmt.Errorf("%w: reading its members took longer than its time budget (decompression bomb?)", ErrArchive)
	}
	return nil
}

// budgetReader charges what it reads to an archive's budget.
type budgetReader struct {
	r io.Reader
	b *archiveBudget
}

func (br budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if cerr := br.b.charge(n); cerr != nil {
		return n, cerr
	}
	return n, err
}
