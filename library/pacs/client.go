// Package pacs is a DICOMweb client: QIDO-RS search at study, series and
// instance level, WADO-RS retrieve of a study or series streamed to disk
// part by part (never a whole study in memory), WADO-RS rendered previews,
// and STOW-RS upload. It speaks to any DICOMweb server (Orthanc with its
// DICOMweb plugin, dcm4chee, cloud healthcare APIs) with no authentication,
// HTTP basic or a bearer token, over HTTP or TLS (the system roots plus an
// optional CA file).
//
// Every call takes a context; idempotent requests are retried with
// back-off when the server is unreachable or answers 5xx. Each failure
// class has a sentinel (ErrUnreachable, ErrUnauthorized, ErrNotFound,
// ErrServer, ErrTruncated, ErrNotDICOM) and a one-line message; messages
// quote status codes and UIDs asked for, never credentials.
package pacs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
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
)

// Config says how to reach one server.
type Config struct {
	Name     string // the user's name for the server ("main PACS")
	URL      string // the DICOMweb root, e.g. http://pacs:8042/dicom-web
	User     string // HTTP basic user ("" for none)
	Password string // HTTP basic password (a secret: never logged)
	Token    string // bearer token (a secret: never logged); wins over basic
	CAFile   string // PEM certificates trusted besides the system's
	// Timeout bounds each request without a body to stream (default 30 s);
	// retrieves are bounded by their context only.
	Timeout time.Duration
	// Retries of idempotent requests after the first try (default 3).
	Retries int
}

// Client is a DICOMweb client for one server. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	retries int
	backoff time.Duration
}

// New checks cfg and makes a client; it does not contact the server.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("PACS URL %q: want http(s)://host[:port]/path", cfg.URL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a hospital PACS is reached directly, never through a proxy from the environment
	if cfg.CAFile != "" {
		pool, err := caPool(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	retries := cfg.Retries
	if retries == 0 {
		retries = 3
	}
	return &Client{cfg: cfg, base: u, http: &http.Client{Transport: tr}, retries: max(retries, 0),
		backoff: 200 * time.Millisecond}, nil
}

// caPool is the system roots plus the certificates in file.
func caPool(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// Name is the server's name.
func (c *Client) Name() string { return c.cfg.Name }

// BaseURL is the server's DICOMweb root (it holds no credentials).
func (c *Client) BaseURL() string {
	u := *c.base
	u.User = nil
	return u.String()
}

// endpoint is the URL of a path under the DICOMweb root with a query.
func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	// Commas stay literal (RFC 3986 allows them in a query): servers split
	// lists such as viewport=64,64 on them before decoding.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "%2C", ",")
	return u.String()
}

// get sends a GET (retried with back-off while the server is unreachable
// or answers 5xx) and returns the response of status 200 (or 204); the
// caller closes its body. timed bounds the whole exchange by the client's
// timeout (not for streamed retrieves).
func (c *Client) get(ctx context.Context, path string, q url.Values, accept string, timed bool) (*http.Response, error) {
	var lastErr error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, c.backoff<<(attempt-1)); err != nil {
				return nil, err
			}
		}
		resp, err := c.try(ctx, http.MethodGet, path, q, accept, nil, "", timed)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrServer) {
			break
		}
	}
	return nil, lastErr
}

// try sends one request and maps the answer to an error class.
func (c *Client) try(ctx context.Context, method, path string, q url.Values, accept string, body io.Reader, ctype string, timed bool) (*http.Response, error) {
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if timed {
		rctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
	}
	req, err := http.NewRequestWithContext(rctx, method, c.endpoint(path, q), body)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		reason := netReason(err)
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			reason = fmt.Sprintf("no answer within %v", c.cfg.Timeout)
		}
		return nil, fmt.Errorf("%s %s: %w (%s)", method, c.base.Host, ErrUnreachable, reason)
	}
	if err := statusError(method, path, resp); err != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	case c.cfg.User != "":
		req.SetBasicAuth(c.cfg.User, c.cfg.Password)
	}
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

// cancelBody releases a request's timeout when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
