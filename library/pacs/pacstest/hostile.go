package pacstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mode is how a Hostile server misbehaves.
type Mode int

// The behaviours of a Hostile server. Searches and retrieves it does not
// misbehave on are answered honestly (see Hostile).
const (
	Honest            Mode = iota
	RedirectSame           // every request: 307 to the same resource under /moved/ on this server
	RedirectOther          // every request: 307 to the same resource on Hostile.Other
	RedirectLoop           // every request: 307 to itself
	Unauthorized           // every request: 401
	Silent                 // every request: no answer at all, until the client hangs up
	EndlessPart            // retrieve: one part that never ends
	EndlessParts           // retrieve: small valid parts that never end
	NoClosingBoundary      // retrieve: whole parts, then the body ends with no delimiter
	OpenBoundary           // retrieve: whole parts, then a delimiter opening a part, then the end
	HangAfterParts         // retrieve: whole parts, then nothing, the connection held open
	Stall                  // retrieve: headers and the first bytes of a part, then nothing
	Trickle                // retrieve: a part sent a byte at a time, 20 ms apart
	GzipRetrieve           // retrieve: gzip (not asked for) of a part inflating to 1 GiB
	WrongStudy             // retrieve: the server's instances, then one of another study (…8888.1)
	GzipSearch             // search: gzip (not asked for) of 1 GiB of spaces
	HugeSearch             // search: 200,000 results (about 240 MB) whatever the limit
	DeepSearch             // search: 16 MiB of nested arrays
	ManyResults            // search: Results results, honouring limit and offset
	BadUIDs                // search: the server's series and three that are not UIDs ("../../etc/passwd" …)
)

// safetyBytes bounds what any endless answer sends, should a client never
// stop reading (a test of a client without its bounds).
const safetyBytes = 1 << 30

// Hostile is a DICOMweb server on 127.0.0.1 that misbehaves as Mode says,
// for tests of a client's defences. Its root (URL) is /dicom-web. Honest
// answers: a study search finds Study; a series search finds Series (of
// Study) or, in ManyResults, Results series; an instance search finds one
// instance; a retrieve sends Instances (default 2) synthetic instances of
// Study and Series (see Instance), or Files. Each Hostile is configured before it
// starts (NewHostile) and not changed afterwards.
type Hostile struct {
	Mode      Mode
	Study     string   // default 1.2.826.0.1.7777.1
	Series    string   // default 1.2.826.0.1.7777.1.1
	Instances int      // instances a retrieve sends (default 2)
	Results   int      // results of a ManyResults search
	Files     []string // DICOM files a retrieve sends instead of synthetic instances (set Study and Series to theirs)
	Other     *Hostile // where RedirectOther points

	URL  string // the DICOMweb root, http://127.0.0.1:PORT/dicom-web
	Base string // http://127.0.0.1:PORT

	requests, sent, active atomic.Int64
	authorized, gzipAsked  atomic.Int64
	mu                     sync.Mutex
	paths                  []string
}

// NewHostile starts h (its zero fields take their defaults) for the test.
func NewHostile(t testing.TB, h *Hostile) *Hostile {
	t.Helper()
	if h.Study == "" {
		h.Study = "1.2.826.0.1.7777.1"
	}
	if h.Series == "" {
		h.Series = h.Study + ".1"
	}
	if h.Instances == 0 {
		h.Instances = max(2, len(h.Files))
	}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.Base, h.URL = srv.URL, srv.URL+"/dicom-web"
	return h
}

// Requests is how many requests reached the server.
func (h *Hostile) Requests() int64 { return h.requests.Load() }

// Sent is how many body bytes the server wrote (after any compression).
func (h *Hostile) Sent() int64 { return h.sent.Load() }

// Paths are the paths requested, in order (as the server decoded them).
func (h *Hostile) Paths() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.paths...)
}

// Authorized is how many requests carried an Authorization header.
func (h *Hostile) Authorized() int64 { return h.authorized.Load() }

// GzipAsked is how many requests asked for gzip (Accept-Encoding).
func (h *Hostile) GzipAsked() int64 { return h.gzipAsked.Load() }

// WaitDone waits, at most limit, until no request is being answered; it
// reports whether that happened (an endless answer ends when the client
// hangs up).
func (h *Hostile) WaitDone(limit time.Duration) bool {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if h.active.Load() == 0 {
			return true
		}
	}
	return false
}

func (h *Hostile) serve(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	h.mu.Lock()
	h.paths = append(h.paths, r.URL.Path)
	h.mu.Unlock()
	h.active.Add(1)
	defer h.active.Add(-1)
	if r.Header.Get("Authorization") != "" {
		h.authorized.Add(1)
	}
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.gzipAsked.Add(1)
	}
	if h.redirect(w, r) {
		return
	}
	path := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/moved"), "/dicom-web")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 0 || parts[0] != "studies":
		http.NotFound(w, r)
	case len(parts) == 1 || len(parts) == 3 && parts[2] == "series" || len(parts) == 5 && parts[4] == "instances":
		h.search(w, r, parts)
	case len(parts) == 2 || len(parts) == 4:
		h.retrieve(w, r)
	default:
		http.NotFound(w, r)
	}
}

// redirect answers the modes that answer every request alike.
func (h *Hostile) redirect(w http.ResponseWriter, r *http.Request) bool {
	to := ""
	switch h.Mode {
	case Unauthorized:
		w.WriteHeader(http.StatusUnauthorized)
		return true
	case Silent:
		<-r.Context().Done()
		return true
	case RedirectSame:
		if strings.HasPrefix(r.URL.Path, "/moved/") {
			return false
		}
		to = h.Base + "/moved" + r.URL.RequestURI()
	case RedirectOther:
		to = h.Other.Base + r.URL.RequestURI()
	case RedirectLoop:
		to = h.Base + r.URL.RequestURI()
	default:
		return false
	}
	http.Redirect(w, r, to, http.StatusTemporaryRedirect)
	return true
}

// counter counts the bytes written through it.
type counter struct {
	w http.ResponseWriter
	n *atomic.Int64
}

func (c counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (c counter) flush() {
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Attr is one attribute of a DICOM JSON search answer.
func Attr(tag, vr, value string) string {
	return fmt.Sprintf("%q:{\"vr\":%q,\"Value\":[%q]}", tag, vr, value)
}
