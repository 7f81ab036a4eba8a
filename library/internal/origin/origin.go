// Package origin keeps HTTP requests with the origin (scheme, host and port)
// they were configured for: a redirect to another origin is refused before
// anything is sent there, so credentials and query parameters (patient IDs,
// names) never reach a server the user did not add.
package origin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MaxRedirects bounds the same-origin redirects one request follows.
const MaxRedirects = 5

// ErrCrossOrigin is returned (wrapped in a *url.Error by net/http) when a
// server redirects to another origin.
var ErrCrossOrigin = errors.New("redirected to another server")

// ErrTooManyRedirects is returned when a request is redirected more than
// MaxRedirects times within its origin (a loop, most often).
var ErrTooManyRedirects = errors.New("too many redirects")

// CrossOriginError names the origin a server redirected to.
type CrossOriginError struct {
	From, To string // origins, scheme://host:port
}

func (e *CrossOriginError) Error() string {
	return fmt.Sprintf("%v (%s to %s)", ErrCrossOrigin, e.From, e.To)
}

// Unwrap lets errors.Is(err, ErrCrossOrigin) match.
func (e *CrossOriginError) Unwrap() error { return ErrCrossOrigin }

// Of returns u's origin as scheme://host:port, with the scheme's default
// port filled in and scheme and host in lower case.
func Of(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port
}

// Same reports whether a and b share scheme, host and port.
func Same(a, b *url.URL) bool { return Of(a) == Of(b) }

// CheckRedirect is an http.Client CheckRedirect policy: it follows at most
// MaxRedirects redirects, and only those to the first request's origin.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	first := via[0].URL
	if !Same(first, req.URL) {
		return &CrossOriginError{From: Of(first), To: Of(req.URL)}
	}
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w (%d, within %s)", ErrTooManyRedirects, len(via), Of(first))
	}
	return nil
}

// Client returns a copy of c (a fresh client when c is nil) that follows
// redirects only within their origin.
func Client(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.CheckRedirect = CheckRedirect
	return &out
}
