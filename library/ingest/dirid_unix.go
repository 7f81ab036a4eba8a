//go:build unix

package ingest

import (
	"errors"
	"os"
	"syscall"
)

// dirID is who a folder is, whatever the path it was reached by.
type dirID struct{ dev, ino uint64 }

// folderID reads an open folder's device and inode (one fstat).
func folderID(f *os.File) (dirID, error) {
	st, err := f.Stat()
	if err != nil {
		return dirID{}, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return dirID{}, errors.New("no device and inode")
	}
	return dirID{dev: uint64(sys.Dev), ino: uint64(sys.Ino)}, nil
}
