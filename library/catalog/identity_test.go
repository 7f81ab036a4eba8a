package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func folderIDOf(t *testing.T, catalogPath string) string {
	t.Helper()
	id, err := FolderID(catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLibraryID: a catalog and its folder carry one
// library id; a catalog copied in from another library is refused, for
// writing and for reading, in one line; a catalog from before ids gets
// one; a folder whose library.id is gone takes its catalog's; a catalog
// just made takes its folder's.
func TestLibraryID(t *testing.T) {
	mine, other := filled(t, 3), filled(t, 2)
	id := folderIDOf(t, mine)
	if st, err := os.Stat(filepath.Join(filepath.Dir(mine), IDFile)); err != nil || st.Mode().Perm() != 0o600 || !validID(id) {
		t.Fatalf("library.id %v %v %q", st, err, id)
	}
	c, err := OpenReadOnly(mine)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Setting(string(keyLibraryID)); v != id {
		t.Fatalf("catalog id %q, folder id %q", v, id)
	}
	c.Close()

	theirs, _ := os.ReadFile(other)
	if err := os.WriteFile(mine, theirs, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*Catalog, error){"write": Open, "read": OpenReadOnly} {
		_, err := open(mine)
		if !errors.Is(err, ErrForeign) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: a catalog of another library: %v", name, err)
		}
	}
	if folderIDOf(t, mine) != id {
		t.Fatal("a refused open changed the folder's id")
	}

	os.Remove(filepath.Join(filepath.Dir(mine), IDFile)) // the folder lost its id: it takes the catalog's
	reopen(t, mine)
	if got := folderIDOf(t, mine); got != folderIDOf(t, other) {
		t.Fatalf("folder took %q, catalog is %q", got, folderIDOf(t, other))
	}

	unsetID(t, mine) // a catalog from before ids, in a folder with one: another library's
	if _, err := Open(mine); !errors.Is(err, ErrForeign) {
		t.Fatalf("a catalog without id in a folder with one: %v", err)
	}
	os.Remove(filepath.Join(filepath.Dir(mine), IDFile)) // a library from before ids: it gets one
	reopen(t, mine)
	if got := folderIDOf(t, mine); !validID(got) || got == id {
		t.Fatalf("migrated id %q", got)
	}

	newID := folderIDOf(t, mine)
	os.Remove(mine) // a catalog made afresh takes the folder's id
	reopen(t, mine)
	if folderIDOf(t, mine) != newID {
		t.Fatal("a new catalog changed the folder's id")
	}
	os.WriteFile(filepath.Join(filepath.Dir(mine), IDFile), []byte("not an id\n"), 0o600)
	if _, err := Open(mine); err == nil {
		t.Fatal("a garbled library.id was taken")
	}
}

func reopen(t *testing.T, path string) {
	t.Helper()
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// unsetID removes the catalog's library id, as a catalog from before ids.
func unsetID(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bSettings).Delete(keyLibraryID) })
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
}
