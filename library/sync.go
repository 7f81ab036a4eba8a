package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/m3ret/viewer/library/dept"
	"github.com/m3ret/viewer/library/pacs"
)

// SyncOptions say what a sync covers.
type SyncOptions struct {
	// Since is the first study date (YYYYMMDD) to look at; "" takes the
	// day the last complete sync of this server into this index reached,
	// or everything on the first run.
	Since string
	// Keep leaves the pulled series in this library; by default they are
	// removed once in the index (a sync box would otherwise hold a copy of
	// the whole archive).
	Keep bool
	// Page is the QIDO page size (0: 200).
	Page int
}

// SyncReport is what a sync did.
type SyncReport struct {
	Studies   int       `json:"studies"`
	Series    int       `json:"series"`
	Upserted  int       `json:"upserted"`
	Skipped   int       `json:"skipped"` // series the index already held
	Failed    []Failure `json:"failed"`
	Watermark string    `json:"watermark"` // where the next sync starts
}

// Sync brings the department index up to date with a PACS: it lists the
// studies dated from the watermark on (QIDO by date, paged), and for each
// series the index does not hold yet it pulls the series into this
// library, embeds it (on the GPU when there is one) and upserts its items,
// whose ids are the index's object ids, so a repeated or concurrent sync
// (from another machine) writes nothing twice. The watermark moves on only
// after a complete run, so a killed sync is resumed by running it again;
// it restarts at the last day reached (which is looked at again). progress
// counts series.
func (l *Library) Sync(ctx context.Context, c *pacs.Client, d *DeptIndex, o SyncOptions, progress func(done, total int)) (*SyncReport, error) {
	key := "sync:" + c.Name() + "\x00" + d.ix.Config().Collection
	rep := &SyncReport{Failed: []Failure{}}
	from := o.Since
	if from == "" {
		v, err := l.cat.Setting(key)
		if err != nil {
			return rep, err
		}
		from = v
	}
	studies, err := l.studiesSince(ctx, c, from, o.Page, rep)
	if err != nil {
		return rep, err
	}
	rep.Studies = len(studies)
	reached := from
	done, total := 0, len(studies)
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, total)
	for _, st := range studies {
		if err := l.syncStudy(ctx, c, d, st, o, rep); err != nil {
			return rep, err
		}
		reached = max(reached, st.Date)
		done++
		progress(done, total)
	}
	rep.Watermark = reached
	if len(rep.Failed) == 0 && reached != "" {
		return rep, l.cat.SetSetting(key, reached)
	}
	return rep, nil
}

// studiesSince pages through the studies dated from (YYYYMMDD) on, oldest
// first. Studies a page left out (no valid UID) are one failure each page
// in rep, so the watermark stays; a server that ignores the page size
// cannot be paged through and stops the sync.
func (l *Library) studiesSince(ctx context.Context, c *pacs.Client, from string, page int, rep *SyncReport) ([]pacs.Study, error) {
	if page <= 0 {
		page = 200
	}
	var out []pacs.Study
	for off := 0; ; off += page {
		got, err := c.FindStudies(ctx, pacs.Query{DateFrom: from, Limit: page, Offset: off})
		dropped := 0
		if partial := (*pacs.PartialError)(nil); errors.As(err, &partial) && !partial.Cut {
			dropped, err = partial.Invalid, nil
			rep.Failed = append(rep.Failed, Failure{Path: "pacs:" + c.Name() + " studies", Error: partial.Error()})
		}
		if err != nil {
			return nil, fmt.Errorf("find studies since %q: %w", from, err)
		}
		out = append(out, got...)
		if len(got)+dropped < page {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out, nil
}

// syncStudy indexes the series of one study that the index lacks. A series
// that cannot be pulled or decoded is a failure of its own; an index that
// cannot be written stops the sync.
func (l *Library) syncStudy(ctx context.Context, c *pacs.Client, d *DeptIndex, st pacs.Study, o SyncOptions, rep *SyncReport) error {
	series, err := c.FindSeries(ctx, st.UID, pacs.Query{})
	if partial := (*pacs.PartialError)(nil); errors.As(err, &partial) && !partial.Cut {
		// The series with valid UIDs are indexed; the others are one failure.
		rep.Failed = append(rep.Failed, Failure{Path: "pacs:" + c.Name() + " study", Error: partial.Error()})
		err = nil
	}
	if err != nil {
		rep.Failed = append(rep.Failed, Failure{Path: "pacs:" + c.Name() + " study", Error: err.Error()})
		return ctx.Err()
	}
	for _, s := range series {
		rep.Series++
		if err := checkSource(&Source{StudyUID: st.UID, SeriesUID: s.UID}); err != nil {
			// Not written: workstations would drop it, and its UIDs would
			// reach their PACS requests.
			rep.Failed = append(rep.Failed, Failure{Path: "pacs:" + c.Name() + " series", Error: err.Error()})
			continue
		}
		has, err := d.ix.HasSeries(ctx, c.Name(), s.UID)
		if err != nil {
			return fmt.Errorf("department index: %w", err)
		}
		if has {
			rep.Skipped++
			continue
		}
		n, err := l.syncSeries(ctx, c, d, &Source{Server: c.Name(), StudyUID: st.UID, SeriesUID: s.UID}, o)
		rep.Upserted += n
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errIndexWrite):
			return err
		case err != nil:
			rep.Failed = append(rep.Failed, Failure{Path: sourceName(&Source{Server: c.Name(), SeriesUID: s.UID}), Error: err.Error()})
		}
	}
	return nil
}

var errIndexWrite = errors.New("write the department index")

// syncSeries pulls one series (or finds it pulled by a run that was
// killed before its upsert), upserts its items and, unless o.Keep, removes
// them from this library again.
func (l *Library) syncSeries(ctx context.Context, c *pacs.Client, d *DeptIndex, src *Source, o SyncOptions) (int, error) {
	before, err := l.ItemsFrom(src.Server, src.StudyUID, src.SeriesUID)
	if err != nil {
		return 0, err
	}
	// A series this library held before the sync (pulled by its user, not
	// by a sync killed before its upsert) is left in it.
	mine := len(before) > 0 && !l.syncPulled(src)
	if err := l.cat.SetSetting(syncMarker(src), "1"); err != nil {
		return 0, err
	}
	rep, err := l.Pull(ctx, c, src.StudyUID, []string{src.SeriesUID}, nil)
	if err != nil {
		return 0, err
	}
	if len(rep.Failed) > 0 {
		return 0, errors.New(rep.Failed[0].Error)
	}
	items, err := l.ItemsFrom(src.Server, src.StudyUID, src.SeriesUID)
	if err != nil || len(items) == 0 {
		return 0, fmt.Errorf("no item in the series: %w", pacs.ErrNotFound)
	}
	model := l.emb.ModelID()
	recs := make([]Item, 0, len(items))
	var vecs [][]float32
	for _, it := range items {
		v, err := l.cat.Vector(model, it.ID)
		if err != nil {
			return 0, fmt.Errorf("vector of %s: %w", it.ID, err)
		}
		recs = append(recs, it)
		vecs = append(vecs, v)
	}
	if err := d.upsert(ctx, recs, vecs, model, c.BaseURL()); err != nil {
		return 0, fmt.Errorf("%w: %v", errIndexWrite, err)
	}
	if !o.Keep && !mine {
		l.evict(src, items)
	}
	return len(items), nil
}

// syncMarker records that a sync pulled a series (so that a sync killed
// between its pull and its upsert still evicts it when resumed).
func syncMarker(src *Source) string { return "syncpulled:" + sourceKey(src) }

func (l *Library) syncPulled(src *Source) bool {
	v, err := l.cat.Setting(syncMarker(src))
	return err == nil && v != ""
}

func (d *DeptIndex) upsert(ctx context.Context, items []Item, vecs [][]float32, model, serverURL string) error {
	recs := make([]dept.Record, len(items))
	for i, it := range items {
		recs[i] = d.recordOf(it, model, serverURL)
	}
	return d.ix.Upsert(ctx, recs, vecs)
}

// evict removes a synced series from this library: its items, its files
// and its pulled marker (a later pull fetches it again).
func (l *Library) evict(src *Source, items []Item) {
	for _, it := range items {
		l.Remove(it.ID)
	}
	os.RemoveAll(l.seriesDir(src))
	l.cat.SetSetting("pulled:"+sourceKey(src), "")
	l.cat.SetSetting(syncMarker(src), "")
}

// Upsert writes library items (with their vectors in this library) to the
// department index, 500 at a time: how a workstation shares its cases.
func (d *DeptIndex) Upsert(ctx context.Context, l *Library, ids []string, progress func(done, total int)) error {
	model := l.emb.ModelID()
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, len(ids))
	for start := 0; start < len(ids); start += 500 {
		var items []Item
		var vecs [][]float32
		for _, id := range ids[start:min(start+500, len(ids))] {
			it, err := l.Item(id)
			if err != nil {
				return err
			}
			v, err := l.cat.Vector(model, id)
			if err != nil {
				return fmt.Errorf("vector of %s: %w", id, err)
			}
			items, vecs = append(items, it), append(vecs, v)
		}
		if err := d.upsert(ctx, items, vecs, model, ""); err != nil {
			return err
		}
		progress(min(start+500, len(ids)), len(ids))
	}
	return nil
}

// Shareable lists the items a workstation may put in a department index:
// those imported from disk (pulled ones are the sync worker's), passing
// filter ("" for all).
func (l *Library) Shareable(filter string) ([]string, error) {
	items, err := l.Items()
	if err != nil {
		return nil, err
	}
	var match map[string]bool
	if filter != "" {
		if match, err = l.Match(filter); err != nil {
			return nil, err
		}
	}
	var ids []string
	for _, it := range items {
		if it.Source == nil && (match == nil || match[it.ID]) {
			ids = append(ids, it.ID)
		}
	}
	return ids, nil
}
