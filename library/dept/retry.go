package dept

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/m3ret/viewer/library/internal/origin"
)

// Backoff between rounds of tries over every node: doubling from
// firstWait up to maxWait, within ix.Retry and the caller's deadline.
const (
	firstWait = 100 * time.Millisecond
	maxWait   = 2 * time.Second
)

// do runs a write (or schema change) against a node, moving on to the
// next node when the one it used does not answer within 20 s, until
// ix.Retry has passed. op must be idempotent.
func (ix *Index) do(ctx context.Context, op func(ctx context.Context, c *conn) error) error {
	return ix.try(ctx, 20*time.Second, op)
}

// read is do for reads, which answer in milliseconds: a node that has not
// answered in ix.readLimit (5 s) is left for the next one.
func (ix *Index) read(ctx context.Context, op func(ctx context.Context, c *conn) error) error {
	return ix.try(ctx, ix.readLimit, op)
}

// try runs op on the current node, then, while its errors are transient
// (a node down, a cluster electing its leader), on the next ones, waiting
// after each round of them, until ix.Retry or ctx's deadline would pass.
func (ix *Index) try(ctx context.Context, limit time.Duration, op func(ctx context.Context, c *conn) error) error {
	deadline := time.Now().Add(ix.Retry)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	wait := firstWait
	for attempt := 0; ; attempt++ {
		c := ix.conns[ix.current()]
		octx, cancel := context.WithTimeout(ctx, limit)
		err := op(octx, c)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		if !transient(err) {
			return refusal(c.node, err)
		}
		ix.moveOn(c)
		if (attempt+1)%len(ix.conns) != 0 {
			continue
		}
		if time.Now().Add(wait).After(deadline) { // every node tried, no time for another round
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
}

func (ix *Index) current() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.cur
}

// moveOn makes the node after c current, unless another call moved on
// already.
func (ix *Index) moveOn(c *conn) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.conns[ix.cur] == c {
		ix.cur = (ix.cur + 1) % len(ix.conns)
	}
}

// refusal says in one line why a node's answer is not followed: a redirect
// to another server (the API key is not sent there); other errors are
// returned as they are.
func refusal(n Node, err error) error {
	var co *origin.CrossOriginError
	if errors.As(err, &co) {
		return fmt.Errorf("department index node %s %w: refused, the API key was not sent there",
			net.JoinHostPort(n.Host, strconv.Itoa(n.HTTP)), co)
	}
	return err
}

// restErr is the error under a Weaviate client error, whose type does not
// unwrap (errors.Is could not see a deadline or a refused redirect in it).
func restErr(err error) error {
	var we *fault.WeaviateClientError
	if errors.As(err, &we) && we.DerivedFromError != nil {
		return we.DerivedFromError
	}
	return err
}

// restStatus is the HTTP status of a Weaviate client error (0 for none).
func restStatus(err error) int {
	var we *fault.WeaviateClientError
	if errors.As(err, &we) && we.IsUnexpectedStatusCode {
		return we.StatusCode
	}
	return 0
}

// transient reports an error after which another node (or a moment later,
// the same one) may well succeed: the node is down, or the cluster is
// electing a leader or reaching a replica that just died.
func transient(err error) bool {
	for _, ours := range []error{ErrNoCollection, ErrModelMismatch, ErrReplication, ErrFilter, ErrBadURL,
		ErrTooLarge, ErrBadObject, origin.ErrCrossOrigin, origin.ErrTooManyRedirects} {
		if errors.Is(err, ours) {
			return false
		}
	}
	if restStatus(err) >= 500 {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	for _, m := range []string{"connection refused", "connection reset", "no such host", "eof", "broken pipe",
		"leader", "not enough", "replica", "timeout", "unavailable", "status code: 5"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
