package adapt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// workspacePrefix names the scratch folders adapt makes in a library.
const workspacePrefix = "adapt-scratch-"

// expiresFile, in a scratch folder, says when its run will surely have
// ended: a later run removes the folder after that (a run killed outright
// could not remove it itself).
const expiresFile = "expires"

// workspace is a scratch folder inside the library, readable by the user
// alone: the training scripts, the arrays made from the library's items,
// the model being trained. Nothing of the library's content is written
// outside the library folder; remove takes it all away.
type workspace struct{ dir string }

// newWorkspace removes the scratch folders of runs that have surely ended
// and makes a new one, to expire after the given time.
func newWorkspace(libDir string, lasts time.Duration) (*workspace, error) {
	removeExpired(libDir, time.Now())
	dir, err := os.MkdirTemp(libDir, workspacePrefix)
	if err != nil {
		return nil, fmt.Errorf("make scratch folder in the library: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	until := time.Now().Add(lasts).UTC().Format(time.RFC3339)
	if err := os.WriteFile(filepath.Join(dir, expiresFile), []byte(until+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ws := &workspace{dir}
	for _, sub := range []string{"scripts", "data", "init", "out"} {
		if err := os.Mkdir(ws.path(sub), 0o700); err != nil {
			ws.remove()
			return nil, err
		}
	}
	return ws, nil
}

func (w *workspace) path(elem ...string) string {
	return filepath.Join(append([]string{w.dir}, elem...)...)
}

func (w *workspace) remove() error {
	if err := os.RemoveAll(w.dir); err != nil {
		return fmt.Errorf("remove scratch folder %s: %w", w.dir, err)
	}
	return nil
}

// removeExpired removes the scratch folders whose run has surely ended.
func removeExpired(libDir string, now time.Time) {
	entries, err := os.ReadDir(libDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workspacePrefix) {
			continue
		}
		dir := filepath.Join(libDir, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, expiresFile))
		if err != nil {
			if info, serr := e.Info(); serr == nil && now.Sub(info.ModTime()) > 24*time.Hour {
				os.RemoveAll(dir) // killed before it wrote when it expires
			}
			continue
		}
		if t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(data))); err == nil && now.After(t) {
			os.RemoveAll(dir)
		}
	}
}
