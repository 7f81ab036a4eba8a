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
	head, err := readHead(ctx, path, 348) // NIfTI-1's magic ends at 348
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
	r, size, closeFn, err := openSeeker(ctx, full, false)
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
	return withTempCopy(ctx, archive, member, func(tmp string) (*media.Sample, error) { return ReadFileContext(ctx, tmp) })
}

// looksLikeRawDICOM accepts files without the 128-byte preamble: a .dcm
// name, or a first element that starts a dataset (a file meta group, or
// group 0008; implicit or explicit VR, little or big endian).
func looksLikeRawDICOM(path string, head []byte) bool {
	if strings.EqualFold(filepath.Ext(path), ".dcm") {
		return true
	}
	return dicom.SniffDataset(head)
}

func readHead(ctx context.Context, path string, n int) ([]byte, error) {
	f, err := OpenContext(ctx, path) // streams an archive member: only the head is inflated
	if err != nil {
		return nil, err
	}
	defer f.Close()
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
// carry. Archive members are named ARCHIVE!/MEMBER. What could not be
// walked comes back as one error; WalkAll says it entry by entry.
func Walk(root string) ([]string, error) {
	files, problems := WalkAll(root)
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = fmt.Errorf("%s: %w", p.Path, p.Err)
	}
	return files, errors.Join(errs...)
}

// WalkAll is Walk reporting each entry it could not walk (an unreadable
// folder, a broken link, a refused archive) as a Problem of its own, and
// going on with the rest. Symbolic links are followed, files and folders
// alike; a folder reached twice (a link loop) is walked once.
func WalkAll(root string) ([]string, []Problem) {
	w := &treeWalker{seen: map[string]bool{}}
	w.walk(root, true)
	return w.files, w.problems
}

type treeWalker struct {
	files    []string
	problems []Problem
	seen     map[string]bool // real paths of the folders walked
}

func (w *treeWalker) fail(path string, err error) {
	w.problems = append(w.problems, Problem{Path: path, Err: err})
}

// walk adds path: a file, an archive's members, or a folder's entries.
func (w *treeWalker) walk(path string, top bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		w.fail(path, err)
		return
	}
	st, err := os.Stat(abs) // follows links
	switch {
	case err != nil:
		w.fail(abs, fmt.Errorf("cannot read: %w", err))
	case st.IsDir():
		w.folder(abs)
	case !st.Mode().IsRegular():
		w.fail(abs, errNotRegular)
	case top && strings.EqualFold(filepath.Base(abs), "DICOMDIR"):
		files, err := dicomdirFiles(abs)
		w.add(abs, files, err)
	default:
		if head, err := readHead(context.Background(), abs, 4); err == nil && isZip(head) {
			members, err := walkZip(abs)
			w.add(abs, members, err)
			return
		}
		w.files = append(w.files, abs)
	}
}

func (w *treeWalker) add(path string, files []string, err error) {
	if err != nil {
		w.fail(path, err)
		return
	}
	w.files = append(w.files, files...)
}

// folder walks a folder's entries in lexical order.
func (w *treeWalker) folder(dir string) {
	real, err := filepath.EvalSymlinks(dir)
	if err == nil && w.seen[real] {
		return // a link loop, or a folder reached twice
	}
	w.seen[real] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.fail(dir, fmt.Errorf("cannot read folder: %w", err))
	}
	for _, e := range entries { // those read before an error too
		name := e.Name()
		path := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") || skipName(name) || (!e.IsDir() && readByAnother(path)) {
			continue
		}
		w.walk(path, false)
	}
}

// errNotRegular is the reason a walk gives for a pipe, socket or device.
var errNotRegular = errors.New("not a regular file (a pipe, socket or device): not read")

func skipName(name string) bool {
	switch strings.ToUpper(name) {
	case "LICENSE", "COPYRIGHT", "README", "README.MD", "DICOMDIR", "THUMBS.DB", ".DS_STORE":
		return true
	}
	return false
}
