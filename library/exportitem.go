package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/m3ret/viewer/library/export"
	"github.com/m3ret/viewer/library/ingest"
)

// Anonymised export (see library/export): the DICOM files of library items,
// and of files outside it, with the patient's identity removed.
type (
	ExportOptions = export.Options
	ExportReport  = export.Report
)

// Errors of an export a caller may test for.
var (
	ErrBurnedIn = export.ErrBurnedIn
	// ErrNotDICOM refuses an item that is not DICOM (a NIfTI volume, a
	// video, a picture): its view can be exported as PNG instead.
	ErrNotDICOM = errors.New("only DICOM items can be exported as anonymised DICOM; export the displayed view as PNG instead")
)

// ExportAnonymised writes anonymised copies of the DICOM files of items
// ids under dir (see export.AnonymiseDICOM: one folder per series, UIDs
// replaced consistently across the export, pixels unchanged). A pulled
// item whose local files are gone is fetched again first. It refuses, before
// writing anything, an item that is not DICOM (ErrNotDICOM).
func (l *Library) ExportAnonymised(ctx context.Context, ids []string, dir string, opt ExportOptions,
	progress func(done, total int)) (ExportReport, error) {
	return l.ExportAnonymisedFiles(ctx, ids, nil, dir, opt, progress)
}

// ExportAnonymisedFiles is ExportAnonymised with files outside the library
// (a dropped query) exported in the same run, after the items: a query and
// a result of one study stay one study.
func (l *Library) ExportAnonymisedFiles(ctx context.Context, ids, files []string, dir string, opt ExportOptions,
	progress func(done, total int)) (ExportReport, error) {
	var src []string
	for _, id := range ids {
		paths, err := l.exportSources(ctx, id)
		if err != nil {
			return ExportReport{}, err
		}
		src = append(src, paths...)
	}
	src = append(src, files...)
	if len(src) == 0 {
		return ExportReport{}, errors.New("export: nothing to export")
	}
	opt.Open = ingest.OpenContext
	opt.Progress = progress
	rep, err := export.AnonymiseDICOM(ctx, src, dir, opt)
	if errors.Is(err, export.ErrMalformed) {
		err = fmt.Errorf("%w (%v)", ErrNotDICOM, err)
	}
	return rep, err
}

// exportSources returns an item's DICOM files, fetching a pulled series
// again when its local copy is gone.
func (l *Library) exportSources(ctx context.Context, id string) ([]string, error) {
	it, err := l.cat.Get(id)
	if err != nil {
		return nil, fmt.Errorf("export item %s: %w", id, err)
	}
	if !strings.HasPrefix(it.Format, "dicom") {
		return nil, fmt.Errorf("export item %s (%s): %w", id, it.Format, ErrNotDICOM)
	}
	src := it.Sources()
	if _, err := os.Stat(src[0]); errors.Is(err, fs.ErrNotExist) && !strings.Contains(src[0], "!") {
		if _, ferr := l.refetch(l.scratch(ctx), it, err); ferr != nil {
			return nil, fmt.Errorf("export item %s: %w", id, ferr)
		}
	}
	return src, nil
}
