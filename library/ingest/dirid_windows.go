//go:build windows

package ingest

import (
	"os"
	"syscall"
)

// dirID is who a folder is, whatever the path it was reached by.
type dirID struct {
	volume uint32
	index  uint64
}

// folderID reads an open folder's volume serial number and file index
// (what os.SameFile compares).
func folderID(f *os.File) (dirID, error) {
	var d syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(syscall.Handle(f.Fd()), &d); err != nil {
		return dirID{}, err
	}
	return dirID{volume: d.VolumeSerialNumber, index: uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)}, nil
}
