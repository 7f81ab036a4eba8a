package pacs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/internal/origin"
	"github.com/m3ret/viewer/library/pacs/pacstest"
)

// The tests of this file run the client against pacstest.Hostile, a
// server on 127.0.0.1 that misbehaves as each case asks. None measures
// time: they count requests and bytes; timeouts are limits only.

func hostileClient(t *testing.T, h *pacstest.Hostile, cfg Config) *Client {
	t.Helper()
	cfg.URL = h.URL
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = time.Millisecond
	return c
}

// limit bounds a test's calls, should a defence be missing.
func limit(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestHostileRedirects: a redirect within the server's origin is followed
// with the credentials; one to another origin is refused before anything
// is sent there (the other server sees no request), and says where it
// pointed; a redirect loop fails at once, not retried as unreachable.
func TestHostileRedirects(t *testing.T) {
	tests := []struct {
		name     string
		mode     pacstest.Mode
		want     error
		requests int64 // at most, on the redirecting server, per call
	}{
		{"same origin", pacstest.RedirectSame, nil, 2},
		{"other origin", pacstest.RedirectOther, ErrCrossOrigin, 1},
		{"loop", pacstest.RedirectLoop, ErrRedirectLoop, origin.MaxRedirects + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := pacstest.NewHostile(t, &pacstest.Hostile{})
			h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: tc.mode, Other: other})
			c := hostileClient(t, h, Config{User: "alice", Password: "pa55word"})
			calls := map[string]func() error{
				"search": func() error {
					_, err := c.FindStudies(limit(t), Query{PatientID: "PID4711", PatientName: "DOE^JANE"})
					return err
				},
				"retrieve": func() error {
					_, err := c.Retrieve(limit(t), h.Study, h.Series, t.TempDir(), nil)
					return err
				},
			}
			for what, call := range calls {
				before := h.Requests()
				err := call()
				if !errors.Is(err, tc.want) || h.Requests()-before > tc.requests {
					t.Fatalf("%s: %v after %d requests", what, err, h.Requests()-before)
				}
				if err != nil && (strings.Contains(err.Error(), "PID4711") || strings.Contains(err.Error(), "DOE") ||
					strings.Contains(err.Error(), "pa55word") || errors.Is(err, ErrUnreachable)) {
					t.Fatalf("%s: %v", what, err)
				}
			}
			if other.Requests() != 0 {
				t.Fatalf("the other server received %d requests", other.Requests())
			}
			if tc.mode == pacstest.RedirectSame && h.Authorized() != h.Requests() {
				t.Fatalf("%d of %d requests carried the credentials", h.Authorized(), h.Requests())
			}
		})
	}
}

// TestHostileCrossOriginMessage: the refusal names the origin, and what
// to do, in one line.
func TestHostileCrossOriginMessage(t *testing.T) {
	other := pacstest.NewHostile(t, &pacstest.Hostile{})
	h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: pacstest.RedirectOther, Other: other})
	_, err := hostileClient(t, h, Config{Token: "t0ken"}).FindStudies(limit(t), Query{})
	want := "the PACS redirected to another server (" + other.Base + "); add that address instead"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%v, want %q", err, want)
	}
}

// TestHostileRetrieve: each way a retrieve can fail to end, or end wrong,
// ends at once with its class: the server sees the connection close (its
// handler returns), nothing partial is left, and what was whole before
// the failure is returned.
func TestHostileRetrieve(t *testing.T) {
	const maxPart = 1 << 20
	tests := []struct {
		name  string
		mode  pacstest.Mode
		want  error
		files int
	}{
		{"honest", pacstest.Honest, nil, 2},
		{"endless part", pacstest.EndlessPart, ErrTooLarge, 0},
		{"endless parts", pacstest.EndlessParts, ErrTooLarge, 50},
		{"no closing boundary", pacstest.NoClosingBoundary, ErrTruncated, 1},
		{"boundary opening nothing", pacstest.OpenBoundary, ErrTruncated, 2},
		{"hangs after the parts", pacstest.HangAfterParts, ErrStalled, 1}, // the last part never ends
		{"stalls in a part", pacstest.Stall, ErrStalled, 0},
		{"trickles", pacstest.Trickle, ErrStalled, 0},
		{"silent", pacstest.Silent, ErrStalled, 0},
		{"gzip not asked for", pacstest.GzipRetrieve, ErrBadAnswer, 0},
		{"instance of another study", pacstest.WrongStudy, ErrWrongInstance, 2},
		{"401", pacstest.Unauthorized, ErrUnauthorized, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: tc.mode})
			c := hostileClient(t, h, Config{MaxPart: maxPart, MaxInstances: 50, IdleTimeout: 200 * time.Millisecond})
			dir := filepath.Join(t.TempDir(), "series")
			files, err := c.Retrieve(limit(t), h.Study, h.Series, dir, nil)
			if !errors.Is(err, tc.want) || len(files) != tc.files {
				t.Fatalf("%d files, %v", len(files), err)
			}
			if !h.WaitDone(10 * time.Second) {
				t.Fatalf("the server is still sending (%d bytes so far)", h.Sent())
			}
			if h.Sent() > maxPart+64<<20 || h.GzipAsked() != 0 || h.Requests() != 1 {
				t.Fatalf("%d bytes sent, %d requests, %d asked for gzip", h.Sent(), h.Requests(), h.GzipAsked())
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != tc.files {
				t.Fatalf("files left: %v", left)
			}
		})
	}
}

// TestHostileSearch: search answers are bounded in bytes (after any
// inflation) and results, whatever the server sends; memory stays far
// under 100 MB (counted in bytes allocated, the server's included).
func TestHostileSearch(t *testing.T) {
	tests := []struct {
		name string
		mode pacstest.Mode
		cfg  Config
		want error
		kept int
	}{
		{"240 MB answer, 200,000 series", pacstest.HugeSearch, Config{}, ErrTooMany, 500},
		{"answer past MaxAnswer", pacstest.HugeSearch, Config{PageSize: 5000, MaxAnswer: 1 << 20}, ErrTooLarge, 0},
		{"gzip of 1 GiB of spaces", pacstest.GzipSearch, Config{}, ErrBadAnswer, 0},
		{"16 MiB of nesting", pacstest.DeepSearch, Config{}, ErrBadAnswer, 0},
		{"invalid UIDs", pacstest.BadUIDs, Config{}, ErrInvalidUID, 1},
		{"401", pacstest.Unauthorized, Config{}, ErrUnauthorized, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: tc.mode})
			c := hostileClient(t, h, tc.cfg)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			series, err := c.FindSeries(limit(t), h.Study, Query{})
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.want) || len(series) != tc.kept {
				t.Fatalf("%d series, %v", len(series), err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			if t.Logf("%d KiB allocated, %d bytes sent", alloc>>10, h.Sent()); alloc > 64<<20 {
				t.Fatalf("%d MB allocated", alloc>>20)
			}
			if strings.Contains(err.Error(), "passwd") || strings.Contains(err.Error(), "\n") || h.GzipAsked() != 0 {
				t.Fatalf("message %q, gzip asked %d times", err, h.GzipAsked())
			}
			if !h.WaitDone(10 * time.Second) {
				t.Fatalf("the server is still sending (%d bytes so far)", h.Sent())
			}
		})
	}
}

// TestSearchPages: a search follows pages (limit, offset) up to the
// caller's limit and the client's MaxResults, and says when it cut.
func TestSearchPages(t *testing.T) {
	tests := []struct {
		name     string
		results  int
		q        Query
		kept     int
		cut      bool
		requests int64
		first    int // index of the first result
	}{
		{"all, in pages", 250, Query{}, 250, false, 3, 0},
		{"cut at MaxResults", 1234, Query{}, 1000, true, 10, 0},
		{"caller's limit", 1234, Query{Limit: 1000}, 1000, false, 10, 0},
		{"caller's limit past MaxResults", 1234, Query{Limit: 2000}, 1000, true, 10, 0},
		{"caller's page", 1234, Query{Limit: 50, Offset: 1200}, 34, false, 1, 1200},
		{"exactly MaxResults", 1000, Query{}, 1000, false, 10, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: pacstest.ManyResults, Results: tc.results})
			c := hostileClient(t, h, Config{PageSize: 100, MaxResults: 1000})
			series, err := c.FindSeries(limit(t), h.Study, tc.q)
			var partial *PartialError
			if errors.As(err, &partial) != tc.cut || (err != nil && !tc.cut) || len(series) != tc.kept || h.Requests() != tc.requests {
				t.Fatalf("%d series in %d requests, %v", len(series), h.Requests(), err)
			}
			if tc.cut && (!errors.Is(err, ErrTooMany) || partial.Kept != tc.kept) {
				t.Fatalf("%v", err)
			}
			for i, s := range series {
				if want := nthUID(h.Series, tc.first+i); s.UID != want {
					t.Fatalf("series %d is %s, want %s", i, s.UID, want)
				}
			}
		})
	}
}

func nthUID(uid string, i int) string {
	if i == 0 {
		return uid
	}
	return uid + "." + strconv.Itoa(i)
}

// TestUIDsNeverReachURLs: a UID that is not one is refused before any
// request, and the message does not quote it.
func TestUIDsNeverReachURLs(t *testing.T) {
	h := pacstest.NewHostile(t, &pacstest.Hostile{})
	c := hostileClient(t, h, Config{})
	bad := "../../etc/passwd"
	calls := map[string]func() error{
		"retrieve study": func() error { _, err := c.Retrieve(limit(t), bad, "", t.TempDir(), nil); return err },
		"retrieve series": func() error {
			_, err := c.Retrieve(limit(t), h.Study, h.Series+"/../../x", t.TempDir(), nil)
			return err
		},
		"series":    func() error { _, err := c.FindSeries(limit(t), bad, Query{}); return err },
		"instances": func() error { _, err := c.FindInstances(limit(t), h.Study, bad, Query{}); return err },
		"rendered":  func() error { _, _, err := c.Rendered(limit(t), h.Study, h.Series, "1.2.%2e%2e", 64); return err },
		"no series": func() error { _, err := c.FindInstances(limit(t), h.Study, "", Query{}); return err },
	}
	for what, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidUID) || strings.Contains(err.Error(), "passwd") || strings.Contains(err.Error(), "%2e") {
			t.Errorf("%s: %v", what, err)
		}
	}
	if h.Requests() != 0 {
		t.Fatalf("%d requests reached the server: %q", h.Requests(), h.Paths())
	}
}

// TestRetrieveRefusesWrongStudy: asked for study …7777.1, the server sends
// an instance of …8888.1 first: nothing is kept.
func TestRetrieveRefusesWrongStudy(t *testing.T) {
	h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: pacstest.WrongStudy, Study: "1.2.826.0.1.8888.1", Series: "1.2.826.0.1.8888.1.1"})
	c := hostileClient(t, h, Config{})
	dir := t.TempDir()
	files, err := c.Retrieve(limit(t), "1.2.826.0.1.7777.1", "", dir, nil)
	if !errors.Is(err, ErrWrongInstance) || len(files) != 0 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}
