package dicom

import (
	"context"
	"fmt"
	"io"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// ReadFileIDs returns the Referenced File IDs of a DICOMDIR of size bytes
// (each the components of a path relative to it), in the order they come.
// As for an image, lengths are checked before the parser reads anything,
// and its errors and panics come back as errors that quote no value.
func ReadFileIDs(ctx context.Context, r io.ReadSeeker, size int64) (ids [][]string, err error) {
	defer func() {
		if p := recover(); p != nil {
			ids, err = nil, panicErr(p)
		}
	}()
	in, n, err := open(ctx, r, size)
	if err != nil {
		return nil, err
	}
	ds, err := dcm.Parse(in, n, nil, dcm.SkipPixelData(), dcm.AllowUnknownSpecificCharacterSet())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("parse dicomdir: %w", redact(err))
	}
	for e := range ds.FlatIterator() {
		if e.Tag != tag.ReferencedFileID {
			continue
		}
		if parts, ok := e.Value.GetValue().([]string); ok && len(parts) > 0 {
			ids = append(ids, parts)
		}
	}
	return ids, nil
}
