package controller

import (
	"context"
	"sort"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/pacs"
)

// PullRequest says what to retrieve from a PACS.
type PullRequest struct {
	Client   *pacs.Client
	StudyUID string
	Series   []string // Series Instance UIDs; empty for the whole study
}

// Pull retrieves series into the library now (the command line); see
// library.Pull. It is refused with ErrBusy while another pull runs.
func (c *Controller) Pull(ctx context.Context, r PullRequest, progress func(done, total int)) (*library.Report, error) {
	var rep *library.Report
	err := c.do(ctx, Pull, func(ctx context.Context) error {
		var err error
		rep, err = c.lib.Pull(ctx, r.Client, r.StudyUID, r.Series, progress)
		return err
	})
	if rep == nil {
		rep = &library.Report{}
	}
	return rep, err
}

// StartPull retrieves in the background; progress is called from the
// job's goroutine, deliver (through Post) with the summary. Cancel(Pull)
// stops it: the series being received is dropped whole, those imported
// stay.
func (c *Controller) StartPull(r PullRequest, progress func(done, total int), deliver func(*library.Report, error)) error {
	return Run(c, Pull, func(ctx context.Context) (*library.Report, error) {
		rep, err := c.lib.Pull(ctx, r.Client, r.StudyUID, r.Series, progress)
		if rep == nil {
			rep = &library.Report{}
		}
		return rep, err
	}, deliver)
}

// found is a PACS search's answer and the client that asked.
type found struct {
	client  *pacs.Client
	studies []pacs.Study
}

// StartFind searches a PACS in the background (a newer search supersedes
// it). open makes the client there too: it may read a keyring.
func (c *Controller) StartFind(open func() (*pacs.Client, error), q pacs.Query, deliver func(*pacs.Client, []pacs.Study, error)) error {
	return Run(c, Find, func(ctx context.Context) (found, error) {
		client, err := open()
		if err != nil {
			return found{}, err
		}
		studies, err := client.FindStudies(ctx, q)
		return found{client, studies}, err
	}, func(f found, err error) { deliver(f.client, f.studies, err) })
}

// ItemsFrom returns the library items pulled from a study on a server (of
// one series when seriesUID is not ""), the one with the most frames first.
func (c *Controller) ItemsFrom(server, studyUID, seriesUID string) ([]library.Item, error) {
	out, err := c.lib.ItemsFrom(server, studyUID, seriesUID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Frames > out[j].Frames })
	return out, nil
}
