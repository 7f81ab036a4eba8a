package library

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
)

// indexed is what the indexes knew before a repair: the record of what
// the damaged catalog held that does not depend on it.
type indexed struct {
	items     []string            // the vector index's ids
	annotated map[string][]string // by kind (label, note): the items the metadata index has one for
	problem   string              // why the metadata index could not tell
}

func knownToIndexes(dir string) indexed {
	k := indexed{items: indexedIDs(dir), annotated: map[string][]string{}}
	m, err := index.OpenMetaReadOnly(filepath.Join(dir, "meta.bleve"))
	if err != nil {
		k.problem = "the metadata index could not be read: labels and notes lost cannot be listed"
		return k
	}
	defer m.Close()
	for kind, q := range map[string]string{kindLabel: "label:/.+/", kindNote: "notes:/.+/ verdict:/.+/"} {
		ids, err := m.Match(q)
		if err != nil {
			k.problem = "the metadata index could not be searched: labels and notes lost cannot be listed"
			continue
		}
		for id := range ids {
			k.annotated[kind] = append(k.annotated[kind], id)
		}
		sort.Strings(k.annotated[kind])
	}
	return k
}

// indexedIDs are the ids in the saved vector index (none when it is gone
// or unreadable).
func indexedIDs(dir string) []string {
	g, _, err := index.LoadHNSW(filepath.Join(dir, vectorsFile))
	if err != nil {
		return nil
	}
	defer g.Close()
	return g.Keys()
}

// swapIn puts the salvaged catalog tmp in the place of the damaged one at
// path, which is kept (a hard link, else a copy) as path.damaged-TIME
// first: at no moment is there no catalog.db. It returns the kept file.
func swapIn(path, tmp string) (string, error) {
	kept := keptName(path)
	if err := os.Link(path, kept); err != nil {
		if err := copyFile(path, kept); err != nil {
			return "", fmt.Errorf("keep the damaged catalog: %w", err)
		}
	}
	if err := os.Chmod(kept, 0o600); err != nil {
		return "", fmt.Errorf("keep the damaged catalog: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return kept, fmt.Errorf("put the salvaged catalog in place: %w", err)
	}
	if err := catalog.SyncDir(filepath.Dir(path)); err != nil {
		return kept, fmt.Errorf("put the salvaged catalog in place: %w", err)
	}
	return kept, nil
}

// keptName is a name for the damaged catalog no file has yet.
func keptName(path string) string {
	base := path + ".damaged-" + time.Now().UTC().Format("20060102-150405")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// copyFile copies src to a new file dst, readable by the user alone.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}
