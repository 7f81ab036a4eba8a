package library

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/m3ret/viewer/library/media"
)

// TestEmbedUnstored: Embed gives a loaded item's pixels the vector the
// import stored for it, and refuses a sample without pixels.
func TestEmbedUnstored(t *testing.T) {
	src := t.TempDir()
	writePNG(t, filepath.Join(src, "MR-brain", "a.png"), 90)
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	ctx := context.Background()
	if _, err := l.Import(ctx, []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	items, err := l.Items()
	if err != nil || len(items) != 1 {
		t.Fatalf("%v %v", items, err)
	}
	s, err := l.Load(ctx, items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := l.Embed(ctx, []media.Sample{*s})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := l.Vector(items[0].ID)
	if err != nil || !slices.Equal(vecs[0], stored) {
		t.Fatalf("embedded %v, stored %v (%v)", vecs[0], stored, err)
	}
	if _, err := l.Embed(ctx, []media.Sample{*s, {Channels: 1}}); err == nil {
		t.Fatal("a sample without pixels was embedded")
	}
}
