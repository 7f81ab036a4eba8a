package library

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/internal/uid"
	"github.com/m3ret/viewer/library/pacs"
)

// pullFolder is where pulled instances live inside the library folder
// (readable by the user alone, like the rest of it).
const pullFolder = "pacs"

// Pull retrieves series of a study from a PACS (all of them when
// seriesUIDs is empty) and imports them through the same path as a dropped
// folder; each item records its source (server, Study and Series UIDs). A
// series streams into its folder in the library, its headers read as its
// instances land; it is imported once whole, so a cancel or a failure
// mid-series leaves no partial item (the folder is removed); series pulled
// before (by this library) are skipped, so a later pull resumes where a
// cancelled one stopped. A series the server answers wrongly (an instance
// of another study or series, an answer that does not end or stalls, see
// pacs.Retrieve) is a failure: nothing of it is kept, and it is not marked
// pulled; series listed without a valid UID are left out, counted in one
// failure. The library's write lock is held for the pull and released
// however it ends. progress counts instances received.
func (l *Library) Pull(ctx context.Context, c *pacs.Client, studyUID string, seriesUIDs []string, progress func(done, total int)) (*Report, error) {
	ctx = l.scratch(ctx)
	l.importMu.Lock()
	defer l.importMu.Unlock()
	rep := &Report{Failed: []Failure{}, Items: []Item{}}
	end, err := l.beginWrite(ctx)
	if err != nil {
		return rep, err
	}
	defer l.noteEnd(end)
	series, dropped, err := l.seriesToPull(ctx, c, studyUID, seriesUIDs)
	if err != nil {
		return rep, err
	}
	if dropped != nil {
		rep.Failed = append(rep.Failed, Failure{Path: "pacs:" + c.Name() + " series list", Error: dropped.Error()})
	}
	return rep, l.pullAll(ctx, c, studyUID, series, rep, progress)
}

// pullAll pulls the series listed, one after the other.
func (l *Library) pullAll(ctx context.Context, c *pacs.Client, studyUID string, series []pacs.Series, rep *Report, progress func(done, total int)) error {
	total, done := 0, 0
	for _, s := range series {
		total += max(s.Instances, 1)
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, total)
	for _, s := range series {
		src := &Source{Server: c.Name(), StudyUID: studyUID, SeriesUID: s.UID}
		err := l.pullSeries(ctx, c, src, s.Instances, rep, func(n int) { progress(done+n, max(total, done+n)) })
		done += max(s.Instances, 1)
		progress(min(done, total), total)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			rep.Failed = append(rep.Failed, Failure{Path: sourceName(src), Error: err.Error()})
		}
	}
	return nil
}

// seriesToPull lists the series asked for, with their instance counts.
// Series listed without a valid UID are left out, said by dropped; a list
// cut at the client's bounds is refused (a study of more series than one
// search takes is not pulled whole).
func (l *Library) seriesToPull(ctx context.Context, c *pacs.Client, studyUID string, want []string) (_ []pacs.Series, dropped *pacs.PartialError, _ error) {
	for i, id := range want {
		if err := uid.Check(fmt.Sprintf("series %d of %d asked for", i+1, len(want)), id); err != nil {
			return nil, nil, err
		}
	}
	all, err := c.FindSeries(ctx, studyUID, pacs.Query{})
	if errors.As(err, &dropped) && !dropped.Cut {
		err = nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list series of the study: %w", err)
	}
	if len(want) == 0 {
		if len(all) == 0 && dropped != nil {
			return nil, nil, fmt.Errorf("list series of the study: %w", dropped)
		}
		if len(all) == 0 {
			return nil, nil, fmt.Errorf("study %s: %w", studyUID, pacs.ErrNotFound)
		}
		return all, dropped, nil
	}
	byUID := map[string]pacs.Series{}
	for _, s := range all {
		byUID[s.UID] = s
	}
	out := make([]pacs.Series, 0, len(want))
	for _, id := range want {
		s, ok := byUID[id]
		if !ok {
			return nil, nil, fmt.Errorf("series %s: %w", id, pacs.ErrNotFound)
		}
		out = append(out, s)
	}
	return out, dropped, nil
}

// pullSeries downloads one series (of about n instances) whole, then
// imports it; a series pulled before is skipped. Headers are read, and the
// slices the volume will hold decoded, as the instances land.
func (l *Library) pullSeries(ctx context.Context, c *pacs.Client, src *Source, n int, rep *Report, progress func(int)) error {
	marker := "pulled:" + sourceKey(src)
	if v, err := l.cat.Setting(marker); err != nil {
		return err
	} else if v != "" {
		rep.Skipped++
		return nil
	}
	// Headers are read as the instances land, while the next ones arrive.
	var lookupErr error
	planner := ingest.NewPlanner(ctx, l.knownInstance(&lookupErr))
	planner.DecodeAhead(n)
	defer planner.Close()
	_, err := l.fetchSeries(ctx, c, src, func(f string, n int) {
		planner.Add(f)
		progress(n)
	})
	units, problems := planner.Units(nil)
	if err != nil {
		return err
	}
	if err := l.planned(problems, lookupErr, rep); err != nil {
		return err
	}
	if err := l.importUnits(ctx, unitsOf(units), src, rep, nil); err != nil {
		return err
	}
	return l.cat.SetSetting(marker, "1")
}

// fetchSeries retrieves a series into its folder in the library (emptied
// first); a series that does not arrive whole is removed. onFile (may be
// nil) gets each file as it lands and the count so far.
func (l *Library) fetchSeries(ctx context.Context, c *pacs.Client, src *Source, onFile func(file string, n int)) ([]string, error) {
	dir := l.seriesDir(src)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	files, err := c.Retrieve(ctx, src.StudyUID, src.SeriesUID, dir, func(f string, n int, _ int64) {
		if onFile != nil {
			onFile(f, n)
		}
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return files, nil
}

// seriesDir is the folder of a pulled series: hashed names, so that no
// UID or server name appears in a path.
func (l *Library) seriesDir(src *Source) string {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:8])
	}
	return filepath.Join(l.dir, pullFolder, h(src.Server), h(src.StudyUID), h(src.SeriesUID))
}

func sourceKey(src *Source) string {
	return src.Server + "\x00" + src.StudyUID + "\x00" + src.SeriesUID
}

// sourceName names a series in a report without its UIDs' patient
// context: the server and the Series UID.
func sourceName(src *Source) string {
	return fmt.Sprintf("pacs:%s series %s", src.Server, src.SeriesUID)
}

// PACSResolver turns a server name into a client, for fetching the pixels
// of a pulled item again when its local copy is gone.
type PACSResolver func(server string) (*pacs.Client, error)

// SetPACS sets how Load reaches the PACS an item came from.
func (l *Library) SetPACS(r PACSResolver) { l.pacsFor = r }

// refetch downloads a pulled item's series again when its local files are
// gone; it reports whether it did.
func (l *Library) refetch(ctx context.Context, it Item, readErr error) (bool, error) {
	if it.Source == nil || l.pacsFor == nil || !errors.Is(readErr, fs.ErrNotExist) {
		return false, nil
	}
	c, err := l.pacsFor(it.Source.Server)
	if err != nil {
		return false, fmt.Errorf("fetch again from %s: %w", it.Source.Server, err)
	}
	if _, err := l.fetchSeries(ctx, c, it.Source, nil); err != nil {
		return false, fmt.Errorf("fetch again from %s: %w", it.Source.Server, err)
	}
	return true, nil
}
