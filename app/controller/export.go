package controller

import (
	"context"

	"github.com/m3ret/viewer/library"
)

// ExportRequest says what to export as anonymised DICOM.
type ExportRequest struct {
	Items   []string // library items
	Files   []string // files outside the library (a dropped query)
	Dir     string
	Options library.ExportOptions
}

// ExportDICOM writes an anonymised DICOM export now (the command line),
// as an Export job: one export at a time, Cancel stops it and removes
// what it wrote.
func (c *Controller) ExportDICOM(ctx context.Context, r ExportRequest, progress func(done, total int)) (library.ExportReport, error) {
	var rep library.ExportReport
	err := c.do(ctx, Export, func(ctx context.Context) error {
		var err error
		rep, err = c.lib.ExportAnonymisedFiles(ctx, r.Items, r.Files, r.Dir, r.Options, progress)
		return err
	})
	return rep, err
}

// StartExportDICOM is ExportDICOM in the background; deliver gets the
// report through Post.
func (c *Controller) StartExportDICOM(r ExportRequest, progress func(done, total int),
	deliver func(library.ExportReport, error)) error {
	return Run(c, Export, func(ctx context.Context) (library.ExportReport, error) {
		return c.lib.ExportAnonymisedFiles(ctx, r.Items, r.Files, r.Dir, r.Options, progress)
	}, deliver)
}

// StartWrite runs write (a picture of the view, a key-image note) in the
// background as an Export job; deliver gets what write returns (the file
// written) through Post.
func (c *Controller) StartWrite(write func(ctx context.Context) (string, error), deliver func(string, error)) error {
	return Run(c, Export, write, deliver)
}

// File is the file the search was made with: "" for a library item, a
// region or a department search's item.
func (s *Search) File() string { return s.base.Path }
