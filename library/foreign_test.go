package library

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestForeignCatalogRefused: another library's
// catalog.db copied into a library folder made every command show the
// other library's items ("vector index was older than the catalog");
// now every open refuses it with ErrForeign, and so does repair, leaving
// the folder as it was.
func TestForeignCatalogRefused(t *testing.T) {
	mine, _ := annotatedLibrary(t, 3)
	theirs, _ := annotatedLibrary(t, 2)
	b, err := os.ReadFile(filepath.Join(theirs, catalogFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, catalogFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	graph, _ := os.ReadFile(filepath.Join(mine, vectorsFile))
	emb := &fakeEmbedder{id: "fake@1"}
	for _, access := range []Access{Write, Read, Shared} {
		if l, err := OpenWith(context.Background(), mine, emb, OpenOptions{Access: access}); !errors.Is(err, ErrForeign) {
			if l != nil {
				items, _ := l.Items()
				l.Close()
				t.Fatalf("access %d: opened with %d items: %v", access, len(items), err)
			}
			t.Fatalf("access %d: %v", access, err)
		}
	}
	if _, err := RecordedModel(mine); !errors.Is(err, ErrForeign) {
		t.Fatalf("recorded model: %v", err)
	}
	if _, err := Repair(mine); !errors.Is(err, ErrForeign) {
		t.Fatalf("repair: %v", err)
	}
	now, _ := os.ReadFile(filepath.Join(mine, catalogFile))
	nowGraph, _ := os.ReadFile(filepath.Join(mine, vectorsFile))
	if !bytes.Equal(now, b) || !bytes.Equal(nowGraph, graph) {
		t.Fatal("a refused repair changed the folder")
	}
	if _, err := os.Stat(filepath.Join(mine, "meta.bleve")); err != nil {
		t.Fatalf("a refused repair dropped the metadata index: %v", err)
	}
}

// TestRepairForeignDamaged: a damaged catalog of
// another library is refused by repair too, before anything is written.
func TestRepairForeignDamaged(t *testing.T) {
	mine, _ := annotatedLibrary(t, 3)
	theirs, _ := annotatedLibrary(t, 2)
	b, _ := os.ReadFile(filepath.Join(theirs, catalogFile))
	clear(b[0:4096]) // a header page lost: the catalog is damaged
	if err := os.WriteFile(filepath.Join(mine, catalogFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Repair(mine); !errors.Is(err, ErrForeign) {
		t.Fatalf("repair: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(mine, catalogFile+".*")); len(m) > 0 {
		t.Fatalf("a refused repair left %v", m)
	}
}

// TestLibraryWithoutID: a library from before library ids opens, and gets
// one (library.id, the user's alone).
func TestLibraryWithoutID(t *testing.T) {
	dir, ids := annotatedLibrary(t, 2)
	os.Remove(filepath.Join(dir, "library.id"))
	unsetLibraryID(t, filepath.Join(dir, catalogFile))
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if _, err := l.Item(ids[0]); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if st, err := os.Stat(filepath.Join(dir, "library.id")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("library.id: %v %v", st, err)
	}
	l = openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	l.Close()
}

// unsetLibraryID removes the catalog's library id (bbolt directly), as in
// a catalog from before ids.
func unsetLibraryID(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("settings")).Delete([]byte("library-id")) })
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
}
