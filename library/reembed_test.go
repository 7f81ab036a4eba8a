package library

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// wideEmbedder is a second model with another dimension: (m, 1-m, 1/2)
// normalised. onEmbed, when set, runs before each batch with the number of
// batches embedded so far.
type wideEmbedder struct {
	id      string
	mu      sync.Mutex
	batches int
	onEmbed func(n int)
}

func (w *wideEmbedder) ModelID() string { return w.id }
func (w *wideEmbedder) BatchSize() int  { return 1 }

func (w *wideEmbedder) Embed(ctx context.Context, s []media.Sample) ([][]float32, error) {
	w.mu.Lock()
	n := w.batches
	w.batches++
	w.mu.Unlock()
	if w.onEmbed != nil {
		w.onEmbed(n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	two, _ := (&fakeEmbedder{}).Embed(ctx, s)
	out := make([][]float32, len(two))
	for i, v := range two {
		n := float32(math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + 0.25)))
		out[i] = []float32{v[0] / n, v[1] / n, 0.5 / n}
	}
	return out, nil
}

// reembedLibrary makes a library of n PNGs embedded with fake@1 and
// returns its folder and the sources.
func reembedLibrary(t *testing.T, n int) (dir, src string) {
	t.Helper()
	src = t.TempDir()
	for i := range n {
		writePNG(t, filepath.Join(src, string(rune('a'+i))+".png"), uint8(10+40*i))
	}
	dir = filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, src
}

// answers is what a query with b.png returns: the vector's length and the
// files of the results, in order.
func answers(t *testing.T, l *Library, src string) (int, []string) {
	t.Helper()
	q, err := l.QueryFile(context.Background(), filepath.Join(src, "b.png"), 5, "")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range q.Results {
		files = append(files, filepath.Base(r.Item.Path))
	}
	return len(q.Vector), files
}

func TestReembed(t *testing.T) {
	for _, access := range []Access{Write, Shared} {
		name := map[Access]string{Write: "write", Shared: "shared (the window)"}[access]
		t.Run(name, func(t *testing.T) { testReembed(t, access) })
	}
}

func testReembed(t *testing.T, access Access) {
	dir, src := reembedLibrary(t, 5)
	old := &fakeEmbedder{id: "fake@1"}
	l, err := OpenWith(context.Background(), dir, old, OpenOptions{Access: access})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	oldDim, oldFiles := answers(t, l, src)
	if oldDim != 2 || len(oldFiles) != 5 || oldFiles[0] != "b.png" {
		t.Fatalf("before: dim %d, results %v", oldDim, oldFiles)
	}
	gen, err := l.cat.Generation()
	if err != nil {
		t.Fatal(err)
	}
	indexFile := filepath.Join(dir, vectorsFile)
	oldIndex, err := os.ReadFile(indexFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("cancelled midway keeps the old model", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var during []string
		wide := &wideEmbedder{id: "wide@1", onEmbed: func(n int) {
			if n == 2 { // two items staged: the library still answers on its model
				var dim int
				dim, during = answers(t, l, src)
				if dim != 2 {
					t.Errorf("query during the re-embed: dim %d", dim)
				}
				cancel()
			}
		}}
		_, err := l.Reembed(ctx, wide, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("reembed: %v", err)
		}
		if !equalStrings(during, oldFiles) {
			t.Fatalf("results during the re-embed %v, want %v", during, oldFiles)
		}
		if l.ModelID() != "fake@1" {
			t.Fatalf("model %s after cancel", l.ModelID())
		}
		if dim, files := answers(t, l, src); dim != 2 || !equalStrings(files, oldFiles) {
			t.Fatalf("after cancel: dim %d, results %v", dim, files)
		}
		if rec, err := l.cat.Setting(settingModel); err != nil || rec != "fake@1" {
			t.Fatalf("recorded %q %v", rec, err)
		}
		if now, _ := os.ReadFile(indexFile); !bytes.Equal(now, oldIndex) {
			t.Fatal("the vector index file changed")
		}
		if now, _ := l.cat.Generation(); now != gen { // the saved indexes stay current
			t.Fatalf("catalog generation %d, was %d", now, gen)
		}
	})

	t.Run("complete switches at once", func(t *testing.T) {
		wide := &wideEmbedder{id: "wide@1"}
		rep, err := l.Reembed(context.Background(), wide, nil)
		if err != nil || len(rep.Failed) != 0 {
			t.Fatalf("reembed %+v %v", rep, err)
		}
		if rep.Skipped != 2 || rep.Imported != 3 { // the cancelled run's two are kept
			t.Fatalf("skipped %d, embedded %d; want 2 and 3", rep.Skipped, rep.Imported)
		}
		if l.ModelID() != "wide@1" {
			t.Fatalf("model %s", l.ModelID())
		}
		if dim, files := answers(t, l, src); dim != 3 || len(files) != 5 || files[0] != "b.png" {
			t.Fatalf("after the switch: dim %d, results %v", dim, files)
		}
		q, err := l.QueryItem(context.Background(), rep.Items[0].ID, 4, "")
		if err != nil || len(q.Vector) != 3 || len(q.Results) != 4 {
			t.Fatalf("item query %+v %v", q, err)
		}
		if rec, _ := l.cat.Setting(settingModel); rec != "wide@1" {
			t.Fatalf("recorded %q", rec)
		}
	})
	l.Close()

	t.Run("reopens on the new model, index as saved", func(t *testing.T) {
		if _, err := Open(dir, &fakeEmbedder{id: "fake@1"}); !errors.Is(err, ErrModelMismatch) {
			t.Fatalf("old model: %v", err)
		}
		l2 := openLib(t, dir, &wideEmbedder{id: "wide@1"})
		if n := l2.Notes(); len(n) != 0 {
			t.Fatalf("notes %v", n)
		}
		if dim, files := answers(t, l2, src); dim != 3 || files[0] != "b.png" {
			t.Fatalf("dim %d, results %v", dim, files)
		}
	})

	t.Run("killed between the commit and the index file", func(t *testing.T) {
		if err := os.WriteFile(indexFile, oldIndex, 0o600); err != nil { // the old model's file left in place
			t.Fatal(err)
		}
		l3 := openLib(t, dir, &wideEmbedder{id: "wide@1"})
		if n := l3.Notes(); len(n) != 1 {
			t.Fatalf("notes %v, want the index rebuilt", n)
		}
		if dim, files := answers(t, l3, src); dim != 3 || len(files) != 5 {
			t.Fatalf("dim %d, results %v", dim, files)
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
