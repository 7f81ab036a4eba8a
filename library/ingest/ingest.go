// Package ingest turns a file on disk into a media.Sample by sniffing its
// first bytes and handing it to the reader for its format. Each format lives
// in a subpackage (dicom, raster); this package only dispatches.
package ingest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library/ingest/dicom"
	"github.com/m3ret/viewer/library/ingest/raster"
	"github.com/m3ret/viewer/library/media"
)

// ErrUnsupported is returned for files no reader recognises.
var ErrUnsupported = errors.New("unsupported file format")

// ReadFile decodes the file at path with the reader its content calls for.
func ReadFile(path string) (*media.Sample, error) {
	head, err := readHead(path, 132)
	if err != nil {
		return nil, err
	}
	switch {
	case dicom.Sniff(head):
		return dicom.ReadFile(path)
	case raster.Sniff(head):
		return raster.ReadFile(path)
	case strings.EqualFold(filepath.Ext(path), ".dcm"):
		// Old DICOM files without the Part 10 preamble: let the parser try.
		return dicom.ReadFile(path)
	}
	return nil, ErrUnsupported
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	head := make([]byte, n)
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:k], nil
}

// Walk expands root (a file, or a folder walked recursively) into the
// absolute paths of the regular files to try, in lexical order, skipping
// hidden entries and the licence notes that sample folders carry.
func Walk(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || skipName(name) {
			return nil
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		out = append(out, abs)
		return nil
	})
	return out, err
}

func skipName(name string) bool {
	switch strings.ToUpper(name) {
	case "LICENSE", "COPYRIGHT", "README", "README.MD", "DICOMDIR", "THUMBS.DB", ".DS_STORE":
		return true
	}
	return false
}
