package pacs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// progressBytes is what counts as progress for the idle timeout: a server
// that trickles less than this per timeout is stalled.
const progressBytes = 64 << 10

// watch bounds one exchange: its context ends at the client's timeout
// (timed requests), when nothing (less than progressBytes) arrives for the
// idle timeout, or when the exchange is over.
type watch struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	stopT  context.CancelFunc
	timer  *time.Timer // nil without an idle timeout
	idle   time.Duration
	got    int64 // bytes since the idle timer was last reset (one reader)
}

func newWatch(ctx context.Context, timeout, idle time.Duration) *watch {
	w := &watch{idle: idle, stopT: func() {}}
	if timeout > 0 {
		ctx, w.stopT = context.WithTimeoutCause(ctx, timeout, errTimeout)
	}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	if idle > 0 {
		w.timer = time.AfterFunc(idle, func() { w.cancel(errIdle) })
	}
	return w
}

// received notes n bytes read; enough of them put the idle timeout off.
func (w *watch) received(n int) {
	if w.timer == nil {
		return
	}
	if w.got += int64(n); w.got >= progressBytes {
		w.got = 0
		w.timer.Reset(w.idle)
	}
}

// stop ends the exchange's context and timers.
func (w *watch) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel(nil)
	w.stopT()
}

// watchedBody is an answer's body under its watch: reads feed the idle
// timer, a read cut by the idle timeout fails with ErrStalled, and Close
// ends the watch.
type watchedBody struct {
	io.ReadCloser
	w *watch
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.w.received(n)
	if err != nil && !errors.Is(err, io.EOF) && errors.Is(context.Cause(b.w.ctx), errIdle) {
		err = fmt.Errorf("%w (nothing for %v)", ErrStalled, b.w.idle)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.w.stop()
	return err
}

// capReader reads at most left bytes, and fails with ErrTooLarge if more
// follow (where an io.LimitReader would end as if the answer were whole).
type capReader struct {
	r    io.Reader
	left int64
	what string // what is too large, for the message
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 && err != nil {
			return 0, err // the end (or a failure) right at the bound
		}
		return 0, fmt.Errorf("%w (%s)", ErrTooLarge, c.what)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
