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
// ErrServer, ErrTruncated, ErrNotDICOM, ErrBadAnswer and the bounds below)
// and a one-line message; messages quote status codes, never credentials,
// patient data or UIDs.
//
// A server is not trusted further than its answers can be checked:
// redirects are followed within its origin only (ErrCrossOrigin,
// ErrRedirectLoop; credentials and queries never leave it); nothing
// compressed is asked for or taken; search answers are bounded in bytes
// and results, and paged (ErrTooLarge, PartialError); a retrieve is
// bounded per instance and in instances, fails when it stalls
// (ErrStalled), and keeps only instances of the study and series asked
// for (ErrWrongInstance); UIDs are checked before they enter a URL and as
// they come from answers (ErrInvalidUID).
package pacs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/m3ret/viewer/library/internal/origin"
	"github.com/m3ret/viewer/library/internal/uid"
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
	// retrieves are bounded by their context, their idle timeout and the
	// sizes below.
	Timeout time.Duration
	// IdleTimeout fails a request that receives nothing (less than 64 KiB)
	// for this long (default 60 s).
	IdleTimeout time.Duration
	// Retries of idempotent requests after the first try (default 3).
	Retries int
	// MaxPart bounds one instance of a retrieve (default MaxPart).
	MaxPart int64
	// MaxInstances bounds the instances of one retrieve (default 100,000).
	MaxInstances int
	// MaxAnswer bounds one search answer, in bytes (default 16 MiB).
	MaxAnswer int64
	// PageSize is how many results one search request asks for (limit);
	// a search follows pages (offset) up to MaxResults (defaults 500 and
	// 5,000).
	PageSize, MaxResults int
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
	// Nothing compressed is asked for (and what comes compressed anyway is
	// refused): bounds on bytes received then bound what is written.
	tr.DisableCompression = true
	if cfg.CAFile != "" {
		pool, err := caPool(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	cfg.defaults()
	// Redirects are followed within the server's origin only: credentials
	// and patient queries never reach a server the user did not add.
	hc := origin.Client(&http.Client{Transport: tr})
	return &Client{cfg: cfg, base: u, http: hc, retries: max(cfg.Retries, 0), backoff: 200 * time.Millisecond}, nil
}

// defaults fills the zero fields of cfg.
func (cfg *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.MaxPart <= 0 {
		cfg.MaxPart = MaxPart
	}
	if cfg.MaxAnswer <= 0 {
		cfg.MaxAnswer = 16 << 20
	}
	def(&cfg.MaxInstances, 100000)
	def(&cfg.PageSize, 500)
	def(&cfg.MaxResults, 5000)
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

// levels are the resource levels of a DICOMweb path, with what their UID
// is called in messages.
var levels = [...]struct{ segment, what string }{{"studies", "study UID"}, {"series", "series UID"}, {"instances", "instance UID"}}

// resource is the path of a study, series or instance ("" UIDs at the
// end are left out). Each UID is checked first: nothing but a UID ever
// reaches a URL path.
func resource(uids ...string) (string, error) {
	var b strings.Builder
	for i, id := range uids {
		if id == "" && i > 0 {
			break
		}
		if err := uid.Check(levels[i].what, id); err != nil {
			return "", err
		}
		b.WriteString("/" + levels[i].segment + "/" + id)
	}
	return b.String(), nil
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

// try sends one request and maps the answer to an error class. The
// answer's body is watched (see watch) until it is closed.
func (c *Client) try(ctx context.Context, method, path string, q url.Values, accept string, body io.Reader, ctype string, timed bool) (*http.Response, error) {
	timeout, idle := time.Duration(0), time.Duration(0)
	if timed {
		timeout = c.cfg.Timeout
	}
	if body == nil { // an upload's progress is not watched
		idle = c.cfg.IdleTimeout
	}
	w := newWatch(ctx, timeout, idle)
	req, err := http.NewRequestWithContext(w.ctx, method, c.endpoint(path, q), body)
	if err != nil {
		w.stop()
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		w.stop()
		return nil, c.doError(ctx, w, method, path, err)
	}
	if err := statusError(method, path, resp); err != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // a short error page: the connection stays
		resp.Body.Close()
		w.stop()
		return nil, err
	}
	if err := encodingError(method, path, resp); err != nil {
		resp.Body.Close() // nothing of it is read
		w.stop()
		return nil, err
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, w: w}
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
