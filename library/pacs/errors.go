package pacs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/m3ret/viewer/library/internal/origin"
	"github.com/m3ret/viewer/library/internal/uid"
)

// Errors a caller may test for.
var (
	ErrUnreachable  = errors.New("PACS unreachable")
	ErrUnauthorized = errors.New("PACS refused the credentials")
	ErrNotFound     = errors.New("not found on the PACS")
	ErrServer       = errors.New("PACS server error")
	ErrTruncated    = errors.New("PACS answer cut short")
	ErrNotDICOM     = errors.New("PACS sent a part that is not DICOM")
	ErrBadAnswer    = errors.New("PACS answer not understood")
	// ErrCrossOrigin: the server redirected to another origin (scheme,
	// host, port); nothing was sent there.
	ErrCrossOrigin = errors.New("the PACS redirected to another server")
	// ErrRedirectLoop: more than origin.MaxRedirects redirects within the
	// server's origin.
	ErrRedirectLoop = errors.New("the PACS redirected too many times")
	// ErrTooLarge: an answer, or one instance of a retrieve, went past the
	// client's bounds (counted as it arrives, after any decompression).
	ErrTooLarge = errors.New("PACS answer too large")
	// ErrStalled: a retrieve made no progress for the idle timeout.
	ErrStalled = errors.New("PACS stopped sending")
	// ErrWrongInstance: a retrieve received an instance of another study
	// or series than asked for (or one that does not say which).
	ErrWrongInstance = errors.New("PACS sent an instance that was not asked for")
	// ErrTooMany: more results match than one search takes (see
	// PartialError).
	ErrTooMany = errors.New("more results than one search takes")
	// ErrInvalidUID: a UID (asked for, or in an answer) is not a DICOM UID.
	ErrInvalidUID = uid.ErrInvalid
)

// errIdle and errTimeout are the causes of a request's context ending by
// the client's own bounds.
var (
	errIdle    = errors.New("idle")
	errTimeout = errors.New("timeout")
)

// PartialError comes with the results a search kept when it left some out:
// it cut them at the client's bounds (Is ErrTooMany), or dropped answers
// without a valid UID (Is ErrInvalidUID). Its message quotes no value.
type PartialError struct {
	Search  string // the resource searched, UIDs left out
	Kept    int    // results returned
	Invalid int    // answers dropped for an invalid or foreign UID
	Cut     bool   // more results matched than were kept
}

func (e *PartialError) Error() string {
	var say []string
	if e.Cut {
		say = append(say, fmt.Sprintf("%v: the first %d kept (narrow the search, or page with limit and offset)", ErrTooMany, e.Kept))
	}
	if e.Invalid > 0 {
		say = append(say, fmt.Sprintf("%d answers without a valid UID left out", e.Invalid))
	}
	return "search " + e.Search + ": " + strings.Join(say, "; ")
}

// Is matches ErrTooMany when results were cut and ErrInvalidUID when some
// were dropped.
func (e *PartialError) Is(target error) bool {
	return (target == ErrTooMany && e.Cut) || (target == ErrInvalidUID && e.Invalid > 0)
}

// doError classes a failed exchange (no answer, or a redirect refused).
func (c *Client) doError(ctx context.Context, w *watch, method, path string, err error) error {
	var co *origin.CrossOriginError
	switch cause := context.Cause(w.ctx); {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &co):
		return fmt.Errorf("%s %s: %w (%s); add that address instead", method, redact(path), ErrCrossOrigin, co.To)
	case errors.Is(err, origin.ErrTooManyRedirects):
		return fmt.Errorf("%s %s: %w (more than %d, a redirect loop?)", method, redact(path), ErrRedirectLoop, origin.MaxRedirects)
	case errors.Is(cause, errIdle):
		return fmt.Errorf("%s %s: %w (no answer within %v)", method, redact(path), ErrStalled, c.cfg.IdleTimeout)
	case errors.Is(cause, errTimeout):
		return fmt.Errorf("%s %s: %w (no answer within %v)", method, c.base.Host, ErrUnreachable, c.cfg.Timeout)
	}
	return fmt.Errorf("%s %s: %w (%s)", method, c.base.Host, ErrUnreachable, netReason(err))
}

// statusError maps an HTTP status to an error class.
func statusError(method, path string, resp *http.Response) error {
	code, path := resp.StatusCode, redact(path)
	switch {
	case code == http.StatusOK || code == http.StatusNoContent || (method == http.MethodPost && code/100 == 2):
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s %s: HTTP %d: %w", method, path, code, ErrUnauthorized)
	case code == http.StatusNotFound:
		return fmt.Errorf("%s %s: HTTP %d: %w", method, path, code, ErrNotFound)
	case code >= 500:
		return fmt.Errorf("%s %s: HTTP %d: %w", method, path, code, ErrServer)
	}
	return fmt.Errorf("%s %s: HTTP %d: %w", method, path, code, ErrBadAnswer)
}

// encodingError refuses an answer in a content coding the client did not
// ask for (it asks for none): its size on the wire would say nothing of
// its size once inflated.
func encodingError(method, path string, resp *http.Response) error {
	ce := strings.TrimSpace(resp.Header.Get("Content-Encoding"))
	if ce == "" || strings.EqualFold(ce, "identity") {
		return nil
	}
	if len(ce) > 16 {
		ce = ce[:16] + "…"
	}
	return fmt.Errorf("%s %s: %w (compressed as %q, which the client did not ask for)", method, redact(path), ErrBadAnswer, ce)
}

// redact drops the UIDs from a resource path for messages and logs
// ("/studies/…/series/…"): UIDs identify a patient's studies.
func redact(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789.") == "" {
			parts[i] = "…"
		}
	}
	return strings.Join(parts, "/")
}

// netReason is the short cause of a transport failure, without the URL
// (which may carry a user name).
func netReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
