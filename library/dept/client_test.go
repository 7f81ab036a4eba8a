package dept

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/internal/origin"
)

// TestRedirectStaysWithOrigin: a node that redirects to another origin
// (here another port of the same host, where Go's client would still send
// the Authorization header) is refused in one line; the other origin gets
// no request at all. A redirect within the node's origin is followed.
func TestRedirectStaysWithOrigin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		elsewho bool // redirect to the other server
	}{
		{name: "another port", elsewho: true},
		{name: "same origin", elsewho: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := startFake(t)
			var reached atomic.Int32 // requests the other origin got
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached.Add(1)
				target.serveHTTP(w, r)
			}))
			defer other.Close()
			node := startFake(t)
			redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("moved") == "" {
					to := r.URL.Path + "?moved=1"
					if tc.elsewho {
						to = other.URL + to
					}
					http.Redirect(w, r, to, http.StatusTemporaryRedirect)
					return
				}
				node.serveHTTP(w, r)
			}))
			defer redirecting.Close()
			node.http = redirecting
			cfg := node.config(t, "Cases")
			cfg.APIKey = "secret-key"
			ix, err := Open(context.Background(), cfg, Options{Model: "m@1"})
			if !tc.elsewho {
				if err != nil {
					t.Fatalf("a redirect within the origin: %v", err)
				}
				ix.Close()
				return
			}
			if err == nil {
				ix.Close()
			}
			if !errors.Is(err, origin.ErrCrossOrigin) || strings.Contains(err.Error(), "\n") ||
				!strings.Contains(err.Error(), "API key was not sent there") {
				t.Fatalf("open through a cross-origin redirect: %v, want one line refusing it (ErrCrossOrigin)", err)
			}
			if n := reached.Load(); n != 0 {
				t.Fatalf("the other origin got %d requests, want none", n)
			}
			t.Log(err)
		})
	}
}

// TestOpenWaitsForLeader: right after the Raft leader dies, a node answers
// the collection's lookup with 500, or not at all within the read limit;
// a fresh open tries again (backing off) instead of failing, or of taking
// the collection for missing. A collection that is missing (404) is said
// at once.
func TestOpenWaitsForLeader(t *testing.T) {
	for _, tc := range []struct {
		name        string
		collection  string
		fail500     int
		hang        int
		wantErr     error
		wantLookups int
	}{
		{name: "500 while no leader", collection: "Cases", fail500: 3, wantLookups: 4},
		{name: "no answer within the read limit", collection: "Cases", hang: 2, wantLookups: 3},
		{name: "missing collection", collection: "Missing", wantErr: ErrNoCollection},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			f.schema500, f.schemaHang = tc.fail500, tc.hang
			ix, err := dial(f.config(t, tc.collection))
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			ix.readLimit = 200 * time.Millisecond // a hung lookup is given up sooner than 5 s
			err = ix.prepare(context.Background(), Options{Model: "m@1"})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("open: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("open while the leader is elected: %v", err)
			}
			if n := f.lookups(); n != tc.wantLookups {
				t.Fatalf("%d lookups of the collection, want %d", n, tc.wantLookups)
			}
		})
	}
}

// TestRetryGivesUp: a lookup that keeps failing ends as ErrUnavailable
// once the retry time has passed, not before trying again.
func TestRetryGivesUp(t *testing.T) {
	f := startFake(t)
	f.schema500 = 1 << 30
	ix, err := dial(f.config(t, "Cases"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.Retry = 300 * time.Millisecond
	err = ix.prepare(context.Background(), Options{Model: "m@1"})
	if n := f.lookups(); !errors.Is(err, ErrUnavailable) || n < 2 {
		t.Fatalf("open with no leader ever: %v after %d lookups, want ErrUnavailable after several", err, n)
	}
}
