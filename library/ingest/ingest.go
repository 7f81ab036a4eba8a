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
	"io"
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
