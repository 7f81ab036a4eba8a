package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
)

// RepairReport is what Repair did.
type RepairReport struct {
	// Salvaged counts the items whose records were read back.
	Salvaged int `json:"salvaged"`
	// Annotations counts the notes, labels and measurements read back.
	Annotations int `json:"annotations"`
	// Lost are the ids the vector index knew whose records could not be
	// read: their source files must be imported again.
	Lost []string `json:"lost"`
	// Damaged is where the damaged catalog was kept ("" when the catalog
	// was sound and only the indexes were rebuilt).
	Damaged string `json:"damaged,omitempty"`
	// Problems says what could not be read, one line each.
	Problems []string `json:"problems"`
}

// Repair mends the library in dir, which must not be open: it reads back
// what it can of a damaged catalog.db (kept beside, renamed), writes a new
// one with it, and drops both indexes so that the next Open rebuilds them
// from the catalog. On a sound catalog it only rebuilds the indexes. The
// report lists the items lost (known to the vector index, unreadable).
func Repair(dir string) (*RepairReport, error) {
	return RepairWith(context.Background(), dir, OpenOptions{})
}

func repair(dir string) (*RepairReport, error) {
	path := filepath.Join(dir, "catalog.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no library in %s: %w", dir, err)
	}
	rep := &RepairReport{Lost: []string{}, Problems: []string{}}
	known := indexedIDs(dir)
	cat, err := catalog.Open(path)
	switch {
	case err == nil:
		items, err := cat.Items()
		cat.Close()
		if err != nil {
			return nil, err
		}
		rep.Salvaged = len(items)
	case errors.Is(err, ErrDamaged):
		if err := salvage(path, rep); err != nil {
			return rep, err
		}
	default:
		return nil, err
	}
	salvaged := map[string]bool{}
	if c, err := catalog.Open(path); err == nil {
		items, _ := c.Items()
		for _, it := range items {
			salvaged[it.ID] = true
		}
		c.Close()
	}
	for _, id := range known {
		if !salvaged[id] {
			rep.Lost = append(rep.Lost, id)
		}
	}
	sort.Strings(rep.Lost)
	return rep, dropIndexes(dir)
}

// salvage moves the damaged catalog aside and writes what it held into a
// new one.
func salvage(path string, rep *RepairReport) error {
	got, err := catalog.Salvage(path, "")
	if err != nil {
		return err
	}
	rep.Problems = append(rep.Problems, got.Problems...)
	rep.Damaged = path + ".damaged-" + time.Now().UTC().Format("20060102-150405")
	if err := os.Rename(path, rep.Damaged); err != nil {
		return err
	}
	cat, err := catalog.Open(path)
	if err != nil {
		return err
	}
	defer cat.Close()
	for k, v := range got.Settings {
		if err := cat.SetSetting(k, v); err != nil {
			return err
		}
	}
	noVector := 0
	for _, e := range got.Entries {
		if e.Vector == nil {
			noVector++
		}
		if err := cat.PutAll([]catalog.Entry{e}); err != nil {
			return fmt.Errorf("write salvaged item %s: %w", e.Item.ID, err)
		}
		rep.Salvaged++
	}
	if noVector > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d salvaged items have no vector: m3ret reindex embeds them again", noVector))
	}
	for kind, docs := range got.Annotations { // notes, labels, measurements
		if err := cat.SetAnnotations(kind, docs); err != nil {
			return fmt.Errorf("write salvaged %s annotations: %w", kind, err)
		}
		rep.Annotations += len(docs)
	}
	return nil
}

// indexedIDs are the ids in the saved vector index (none when it is gone
// or unreadable).
func indexedIDs(dir string) []string {
	g, _, err := index.LoadHNSW(filepath.Join(dir, vectorsFile))
	if err != nil {
		return nil
	}
	return g.Keys()
}

// dropIndexes removes both indexes; Open rebuilds them from the catalog.
func dropIndexes(dir string) error {
	for _, p := range []string{vectorsFile, "meta.bleve"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
