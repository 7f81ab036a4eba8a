package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// loggingEmbedder is fakeEmbedder writing "embed" to a log that the
// import's progress writes to too, so that a test sees their order.
type loggingEmbedder struct {
	fakeEmbedder
	log *eventLog
}

func (e *loggingEmbedder) Embed(ctx context.Context, s []media.Sample) ([][]float32, error) {
	e.log.add("embed")
	return e.fakeEmbedder.Embed(ctx, s)
}

type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// TestImportReportsWalk: while the folders are walked
// the import reports the files found so far, as (0 done, N found), so that
// the UI shows them ("found N files", not "0/0"), before any file is read
// (embedded here); the counts then go on in files done. A cancel during
// the walk stops it there: nothing is read or stored.
func TestImportReportsWalk(t *testing.T) {
	src := t.TempDir()
	for i := range 6 {
		writePNG(t, filepath.Join(src, fmt.Sprintf("s%d", i/2), fmt.Sprintf("%d.png", i)), uint8(20*i))
	}
	tests := []struct {
		name     string
		cancelAt int // files found when the import is cancelled; 0: never
	}{{"whole import", 0}, {"cancelled while walking", 3}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &eventLog{}
			l := openLib(t, t.TempDir(), &loggingEmbedder{fakeEmbedder{id: "fake@1"}, log})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rep, err := l.Import(ctx, []string{src}, func(done, total int) {
				log.add(fmt.Sprintf("%d/%d", done, total))
				if done == 0 && total == tc.cancelAt {
					cancel()
				}
			})
			want := "0/1 0/2 0/3 0/4 0/5 0/6 " // then the planning's, the store's and the embedder's
			if tc.cancelAt != 0 {
				want = "0/1 0/2 0/3"
				if !errors.Is(err, context.Canceled) || rep.Imported != 0 {
					t.Fatalf("imported %d, %v; want none, cancelled", rep.Imported, err)
				}
			} else if err != nil || rep.Imported != 6 {
				t.Fatalf("imported %d, %v; want 6", rep.Imported, err)
			}
			got := strings.Join(log.events, " ")
			if !strings.HasPrefix(got, want) || (tc.cancelAt != 0) != !strings.Contains(got, "embed") || (tc.cancelAt != 0 && got != want) {
				t.Fatalf("events %q, want them to start %q", got, want)
			}
		})
	}
}

// TestImportPastPathLimit: a folder nested past the
// system's path limit is one failure that says so, and the files beside
// it are imported.
func TestImportPastPathLimit(t *testing.T) {
	src := t.TempDir()
	writePNG(t, filepath.Join(src, "a.png"), 40)
	writePNG(t, filepath.Join(src, "z.png"), 200)
	r, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	for range 2500 { // 2 bytes a level, through folder handles: past any system's limit
		if err := r.Mkdir("d", 0o700); err != nil {
			t.Fatal(err)
		}
		next, err := r.OpenRoot("d")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		r = next
	}
	r.Close()
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1"})
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported != 2 || len(rep.Failed) != 1 {
		t.Fatalf("imported %d, failed %d, %v", rep.Imported, len(rep.Failed), err)
	}
	if f := rep.Failed[0]; f.Error != "folder nested too deeply (path longer than the system allows)" || filepath.Base(f.Path) != "d" {
		t.Fatalf("%s: %q", filepath.Base(f.Path), f.Error)
	}
}
