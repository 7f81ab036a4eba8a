package catalog

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// A library folder and its catalog carry one identity, a random library
// id: in the catalog's settings and in the file library.id beside it. A
// catalog copied in from another library (its id another, or none while
// the folder has one and the catalog holds items) is refused at every
// open with ErrForeign: the folder would show the other library's cases.
// A library from before ids gets one at its first open for writing; a
// folder whose library.id is missing takes its catalog's (a library moved
// without it, or a first open cut short between the two writes).

// ErrForeign refuses a catalog that belongs to another library.
var ErrForeign = errors.New("this catalog belongs to another library")

// IDFile is the library id's file in the library folder.
const IDFile = "library.id"

var keyLibraryID = []byte("library-id")

func foreign(catalog, folder string) error {
	if catalog == "" {
		return fmt.Errorf("%w (it carries no library id, the folder is library %s; "+
			"if it is this library's own, from before library ids, remove %s)", ErrForeign, short(folder), IDFile)
	}
	return fmt.Errorf("%w (it is library %s, the folder is library %s)", ErrForeign, short(catalog), short(folder))
}

func short(id string) string { return id[:min(8, len(id))] }

// FolderID reads the library id of the folder holding the catalog at
// path ("" when it has none).
func FolderID(path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), IDFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the library id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if !validID(id) {
		return "", fmt.Errorf("%w: %s is not a library id; if this folder's catalog.db is its own, remove %s", ErrForeign, IDFile, IDFile)
	}
	return id, nil
}

func validID(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == 32 && err == nil
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// claim checks the catalog's id against its folder's at an open for
// writing, giving either (or both) one when it has none.
func claim(db *bolt.DB, path string) error {
	folder, err := FolderID(path)
	if err != nil {
		return err
	}
	cat, blank, err := catalogID(db)
	if err != nil {
		return err
	}
	switch {
	case cat != "" && folder != "" && cat != folder, cat == "" && folder != "" && !blank:
		return foreign(cat, folder)
	case cat == "" && folder != "":
		return setCatalogID(db, folder)
	case cat == "":
		cat = newID()
		if err := setCatalogID(db, cat); err != nil {
			return err
		}
	}
	if folder == "" {
		return writeFolderID(path, cat)
	}
	return nil
}

// checkClaim is claim for an open for reading: it refuses a mismatch and
// writes nothing.
func checkClaim(db *bolt.DB, path string) error {
	folder, err := FolderID(path)
	if err != nil || folder == "" {
		return err
	}
	cat, blank, err := catalogID(db)
	switch {
	case err != nil:
		return err
	case cat != folder && (cat != "" || !blank):
		return foreign(cat, folder)
	}
	return nil
}

// catalogID reads the catalog's library id, and whether the catalog is
// blank (no item, no change counted: one just made).
func catalogID(db *bolt.DB) (id string, blank bool, err error) {
	err = guarded(func() error {
		return db.View(func(tx *bolt.Tx) error {
			s, items := tx.Bucket(bSettings), tx.Bucket(bItems)
			if s == nil || items == nil {
				blank = true // a catalog being made
				return nil
			}
			id = string(s.Get(keyLibraryID))
			k, _ := items.Cursor().First()
			blank = k == nil && s.Get(keyGeneration) == nil
			return nil
		})
	})
	return id, blank, err
}

func setCatalogID(db *bolt.DB, id string) error {
	return guarded(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bSettings).Put(keyLibraryID, []byte(id))
		})
	})
}

// writeFolderID writes library.id beside the catalog at path, whole or
// not at all (a temporary file renamed, the folder synced).
func writeFolderID(path, id string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, IDFile+".*")
	if err != nil {
		return fmt.Errorf("write the library id: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(id + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, IDFile))
	}
	if err == nil {
		err = SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("write the library id: %w", err)
	}
	return nil
}

// SyncDir makes a folder's entries (a rename) durable; Windows has no
// such call (its renames are durable when they return).
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
