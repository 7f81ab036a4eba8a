//go:build !unix && !windows

package ingest

import (
	"os"
	"path/filepath"
)

// dirID is who a folder is, whatever the path it was reached by: here, its
// path with links resolved (no device and inode to read).
type dirID struct{ real string }

func folderID(f *os.File) (dirID, error) {
	real, err := filepath.EvalSymlinks(f.Name())
	return dirID{real: real}, err
}
