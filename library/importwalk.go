package library

import (
	"context"
	"errors"

	"github.com/m3ret/viewer/library/ingest"
)

// walkPaths expands paths into the files to import, each entry that could
// not be walked a failure of its own in rep. It reports the files found as
// it goes, as (0, found so far): none done yet, of a total that grows
// until the walk ends (a UI can show "found N files" rather than 0/0). It
// stops with ctx.Err() when ctx is done.
func walkPaths(ctx context.Context, paths []string, rep *Report, progress func(done, total int)) ([]string, error) {
	var files []string
	for _, p := range paths {
		before := len(files)
		found := func(n int) {
			if progress != nil {
				progress(0, before+n)
			}
		}
		fs, problems, err := ingest.WalkContext(ctx, p, found)
		for _, pr := range problems {
			if errors.Is(pr.Err, context.Canceled) || errors.Is(pr.Err, context.DeadlineExceeded) {
				continue // not walked: the import stopped first
			}
			rep.Failed = append(rep.Failed, Failure{Path: pr.Path, Error: pr.Err.Error()})
		}
		files = append(files, fs...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}
