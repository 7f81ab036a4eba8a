// Package ingest turns what a user drops into media samples. It expands
// paths (Walk: folders, DICOMDIR, ZIP archives with bomb and traversal
// guards), plans DICOM files into series from their headers (Plan: one
// Unit per series or file, duplicates and known instances skipped), and
// decodes a file by sniffing its first bytes and handing it to the reader
// for its format (ReadFile). Each format lives in a subpackage (dicom,
// raster, nifti, video); every decode takes a context that reaches the
// reader's own loops and child processes.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library/ingest/dicom"
	"github.com/m3ret/viewer/library/ingest/nifti"
	"github.com/m3ret/viewer/library/ingest/raster"
	"github.com/m3ret/viewer/library/ingest/video"
	"github.com/m3ret/viewer/library/media"
)

// ErrUnsupported is returned for files no reader recognises.
var ErrUnsupported = errors.New("unsupported file format")

// ReadFile decodes the file at path (or archive member, as Walk names
// them) with the reader its content calls for.
func ReadFile(path string) (*media.Sample, error) {
	return ReadFileContext(context.Background(), path)
}

// ReadFileContext is ReadFile stopping, with ctx.Err(), when ctx is done:
// the context reaches the DICOM frame loop, the NIfTI inflater and the
// ffmpeg child.
func ReadFileContext(ctx context.Context, path string) (*media.Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a, m, ok := splitMember(path); ok {
		return readMemberSample(ctx, path, a, m)
	}
	head, err := readHead(path, 348) // NIfTI-1's magic ends at 348
	if err != nil {
		return nil, err
	}
	switch {
	case dicom.Sniff(head):
		return dicom.ReadFileContext(ctx, path)
	case raster.Sniff(head):
		return raster.ReadFile(path)
	case nifti.Sniff(head, path): // magic, or a name with a header beside it
		return nifti.ReadFileContext(ctx, path)
	case looksLikeRawDICOM(path, head):
		// DICOM files without the Part 10 preamble: let the parser try.
		return dicom.ReadFileContext(ctx, path)
	case video.Sniff(head, path):
		return video.ReadFileContext(ctx, path)
	}
	return nil, ErrUnsupported
}

// readMemberSample reads an archive member: DICOM and raster images from
// memory, other formats from a private temporary copy.
func readMemberSample(ctx context.Context, full, archive, member string) (*media.Sample, error) {
	r, size, closeFn, err := openSeeker(full)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	head := make([]byte, 132)
	k, _ := io.ReadFull(r, head)
	head = head[:k]
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	switch {
	case dicom.Sniff(head) || looksLikeRawDICOM(member, head):
		return dicom.ReadContext(ctx, r, size)
	case raster.Sniff(head):
		s, err := raster.Read(r)
		if err == nil {
			s.Meta.Modality, s.Meta.BodyPart = raster.FolderConvention(filepath.Base(filepath.Dir(member)))
		}
		return s, err
	}
	return withTempCopy(archive, member, func(tmp string) (*media.Sample, error) { return ReadFileContext(ctx, tmp) })
}

// looksLikeRawDICOM accepts files without the 128-byte preamble: a .dcm
// name, or a first element in group 0002 or 0008 (little endian).
func looksLikeRawDICOM(path string, head []byte) bool {
	if strings.EqualFold(filepath.Ext(path), ".dcm") {
		return true
	}
	return len(head) >= 8 && (head[0] == 0x02 || head[0] == 0x08) && head[1] == 0x00 && head[3] == 0x00
}

func readHead(path string, n int) ([]byte, error) {
	f, _, closeFn, err := openSeeker(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	head := make([]byte, n)
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:k], nil
}

// Walk expands root (a file, a folder walked recursively, a DICOMDIR or a
// ZIP archive) into the absolute paths of the files to try, in lexical
// order, skipping hidden entries and the licence notes that sample folders
// carry. Archive members are named ARCHIVE!/MEMBER.
func Walk(root string) ([]string, error) {
	if st, err := os.Stat(root); err == nil && st.Mode().IsRegular() {
		if strings.EqualFold(filepath.Base(root), "DICOMDIR") {
			return dicomdirFiles(root)
		}
		if head, err := readHead(root, 4); err == nil && isZip(head) {
			abs, err := filepath.Abs(root)
			if err != nil {
				return nil, err
			}
			return walkZip(abs)
		}
	}
	var out []string
	var refused []error
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
		if d.IsDir() || !d.Type().IsRegular() || skipName(name) || readByAnother(path) {
			return nil
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if head, err := readHead(abs, 4); err == nil && isZip(head) {
			members, err := walkZip(abs)
			if err != nil { // refuse this archive, go on with the rest
				refused = append(refused, fmt.Errorf("%s: %w", name, err))
				return nil
			}
			out = append(out, members...)
			return nil
		}
		out = append(out, abs)
		return nil
	})
	return out, errors.Join(append([]error{err}, refused...)...)
}

func skipName(name string) bool {
	switch strings.ToUpper(name) {
	case "LICENSE", "COPYRIGHT", "README", "README.MD", "DICOMDIR", "THUMBS.DB", ".DS_STORE":
		return true
	}
	return false
}
