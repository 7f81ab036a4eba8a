package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// flippedEmbedder is a second embedding space: the fake's vector reversed.
type flippedEmbedder struct{ fakeEmbedder }

func (f *flippedEmbedder) ModelID() string { return "flipped@1" }

func (f *flippedEmbedder) Embed(ctx context.Context, s []media.Sample) ([][]float32, error) {
	vecs, err := f.fakeEmbedder.Embed(ctx, s)
	for _, v := range vecs {
		v[0], v[1] = v[1], v[0]
	}
	return vecs, err
}

func TestReindex(t *testing.T) {
	src := t.TempDir()
	for i, v := range []uint8{10, 90, 170, 250} {
		writePNG(t, filepath.Join(src, string(rune('a'+i))+".png"), v)
	}
	dir := filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := os.Remove(filepath.Join(src, "d.png")); err != nil { // one source goes missing
		t.Fatal(err)
	}

	flipped := &flippedEmbedder{fakeEmbedder{id: "unused"}}
	r, err := OpenForReindex(dir, flipped)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Reindex(context.Background(), nil)
	r.Close()
	if err != nil || rep.Imported != 3 || len(rep.Failed) != 1 {
		t.Fatalf("reindex %+v %v", rep, err)
	}

	t.Run("old model refused", func(t *testing.T) {
		if _, err := Open(dir, &fakeEmbedder{id: "fake@1"}); !errors.Is(err, ErrModelMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("new model searches its own space", func(t *testing.T) {
		l2 := openLib(t, dir, flipped)
		q, err := l2.QueryFile(context.Background(), filepath.Join(src, "b.png"), 2, "")
		if err != nil || len(q.Results) != 2 || filepath.Base(q.Results[0].Item.Path) != "b.png" || q.Results[0].Score < 0.9999 {
			t.Fatalf("%+v %v", q, err)
		}
		l2.Close()
	})
	t.Run("switching back reuses stored vectors", func(t *testing.T) {
		back := &fakeEmbedder{id: "fake@1"}
		r, err := OpenForReindex(dir, back)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		rep, err := r.Reindex(context.Background(), nil)
		if err != nil || rep.Skipped != 4 || rep.Imported != 0 || back.calls != 0 {
			t.Fatalf("%+v %v, %d embed calls", rep, err, back.calls)
		}
	})
}
