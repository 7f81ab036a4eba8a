package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/m3ret/viewer/library/dept"
	"github.com/m3ret/viewer/library/internal/origin"
	"github.com/m3ret/viewer/library/internal/uid"
	"github.com/m3ret/viewer/library/pacs"
)

// Index is where a query's neighbours are found: the library's own HNSW +
// bleve index (the default), or a department index on a Weaviate cluster
// (OpenDept) that every workstation of a department searches. Filters are
// written the same way for both (bleve's query-string syntax).
type Index interface {
	// Search returns the k items nearest to vec that pass filter, without
	// the item exclude.
	Search(ctx context.Context, vec []float32, k int, filter, exclude string) ([]Result, error)
	// Name says which index this is, for the window and logs.
	Name() string
}

// local is the library's own index.
type local struct{ l *Library }

func (x local) Search(ctx context.Context, vec []float32, k int, filter, exclude string) ([]Result, error) {
	return x.l.searchLocal(vec, k, filter, exclude)
}

func (x local) Name() string { return "this library" }

// UseIndex makes queries search idx (nil: the library's own index again).
func (l *Library) UseIndex(idx Index) {
	l.idxMu.Lock()
	defer l.idxMu.Unlock()
	l.idx = idx
}

// index is the index queries search now.
func (l *Library) index() Index {
	l.idxMu.Lock()
	defer l.idxMu.Unlock()
	if l.idx == nil {
		return local{l}
	}
	return l.idx
}

// DeptIndex is a department index opened for this library's model.
type DeptIndex struct {
	ix          *dept.Index
	workstation string
	mu          sync.Mutex
	dropped     []string // what searches left out, until TakeSearchNotes
}

// DeptOptions say how to open a department index.
type DeptOptions struct {
	APIKey string // "" for none (the CLI reads M3RET_WEAVIATE_API_KEY)
	// Create makes the collection (with Replication, see dept.Options)
	// when it does not exist: the sync worker does, workstations do not.
	Create            bool
	Replication       int
	AllowUnreplicated bool
	EF                int
	Dim               int // the model's embedding length (needed by Create)
}

// Errors of department indexes a caller may test for.
var (
	ErrNoDeptIndex = dept.ErrNoCollection
	ErrNotInPACS   = errors.New("the case is not in a PACS this workstation knows")
	ErrDeptBadURL  = dept.ErrBadURL
	// ErrDeptRedirect: a node redirected to another server, which was
	// refused (the API key is not sent there).
	ErrDeptRedirect = origin.ErrCrossOrigin
)

// IsDeptURL reports whether s names a department index (weaviate://...).
func IsDeptURL(s string) bool { return dept.IsURL(s) }

// OpenDept connects to the department index at url for this library's
// model: an index built with another model is refused (ErrModelMismatch).
func (l *Library) OpenDept(ctx context.Context, url string, o DeptOptions) (*DeptIndex, error) {
	cfg, err := dept.ParseURL(url)
	if err != nil {
		return nil, err
	}
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: l.emb.ModelID(), Dim: o.Dim, Create: o.Create,
		Replication: o.Replication, AllowUnreplicated: o.AllowUnreplicated, EF: o.EF, APIKey: o.APIKey})
	if errors.Is(err, dept.ErrModelMismatch) {
		return nil, fmt.Errorf("%w: %v", ErrModelMismatch, err)
	}
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return &DeptIndex{ix: ix, workstation: host}, nil
}

// Search finds neighbours in the department index. Results name items that
// may not be in this library: Fetch brings one in.
func (d *DeptIndex) Search(ctx context.Context, vec []float32, k int, filter, exclude string) ([]Result, error) {
	hits, dropped, err := d.ix.SearchNoted(ctx, vec, k, filter, exclude)
	if err != nil {
		return nil, err
	}
	if n := dropped.Note(); n != "" {
		d.mu.Lock()
		d.dropped = append(d.dropped, n)
		d.mu.Unlock()
	}
	out := make([]Result, len(hits))
	for i, h := range hits {
		out[i] = Result{Rank: i + 1, Score: h.Score, Item: itemOfRecord(h.Record)}
	}
	return out, nil
}

// TakeSearchNotes returns, once, what the searches since the last call
// left out (objects of the index too large or malformed to show), in one
// line each.
func (d *DeptIndex) TakeSearchNotes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.dropped
	d.dropped = nil
	return out
}

// Count is the number of items in the department index that pass filter.
func (d *DeptIndex) Count(ctx context.Context, filter string) (int, error) {
	return d.ix.Count(ctx, filter)
}

// Name is the collection and its nodes.
func (d *DeptIndex) Name() string { return d.ix.Describe() }

// Notes are the warnings found when it was opened (replication).
func (d *DeptIndex) Notes() []string { return d.ix.Notes() }

// Close drops the connections.
func (d *DeptIndex) Close() error { return d.ix.Close() }

// Remote reports a department result that is not in this library: it has
// no file here, only the PACS series it comes from.
func Remote(it Item) bool { return it.Path == "" && it.Source != nil }

func itemOfRecord(r dept.Record) Item {
	it := Item{ID: r.ItemID, Kind: r.Kind, Modality: r.Modality, BodyPart: r.BodyPart, StudyDate: r.StudyDate,
		Description: r.Description, Format: r.Format, Width: r.Width, Height: r.Height, Frames: r.Frames,
		Volumes: r.Volumes, Spacing: [3]float64{r.SpacingX, r.SpacingY, r.SpacingZ}, FrameTime: r.FrameTime,
		Duration: r.Duration, SeriesUID: r.SeriesUID}
	if r.Server != "" {
		it.Source = &Source{Server: r.Server, StudyUID: r.StudyUID, SeriesUID: r.SeriesUID}
	} else if r.Workstation != "" {
		it.Path = "workstation " + r.Workstation
	}
	return it
}

// recordOf is what the department index holds of a library item: no
// patient name or ID, and for an item imported from disk, the workstation
// but not the file's path (folder and file names often carry a patient's
// name); that workstation finds it again by its item id.
func (d *DeptIndex) recordOf(it Item, model, serverURL string) dept.Record {
	r := dept.Record{ItemID: it.ID, Model: model, Kind: it.Kind, Modality: it.Modality, BodyPart: it.BodyPart,
		StudyDate: it.StudyDate, Description: it.Description, Format: it.Format, Width: it.Width, Height: it.Height,
		Frames: it.Frames, Volumes: it.Volumes, SpacingX: it.Spacing[0], SpacingY: it.Spacing[1],
		SpacingZ: it.Spacing[2], FrameTime: it.FrameTime, Duration: it.Duration}
	if it.Source != nil {
		r.Server, r.ServerURL, r.StudyUID, r.SeriesUID = it.Source.Server, serverURL, it.Source.StudyUID, it.Source.SeriesUID
	} else {
		r.Workstation = d.workstation
	}
	return r
}

// Fetch returns the library item a search result names: the item itself
// when the library has it, else the series pulled from the PACS the result
// names (through the resolver set with SetPACS), then cached here.
func (l *Library) Fetch(ctx context.Context, res Item, progress func(done, total int)) (Item, error) {
	if it, err := l.Item(res.ID); err == nil {
		return it, nil
	}
	if res.Source == nil || l.pacsFor == nil {
		return Item{}, fmt.Errorf("%w: %s", ErrNotInPACS, res.Path)
	}
	if err := checkSource(res.Source); err != nil {
		return Item{}, err
	}
	c, err := l.pacsFor(res.Source.Server)
	if err != nil {
		return Item{}, fmt.Errorf("%w: PACS %q: %w", ErrNotInPACS, res.Source.Server, err)
	}
	rep, err := l.Pull(ctx, c, res.Source.StudyUID, []string{res.Source.SeriesUID}, progress)
	if err != nil {
		return Item{}, err
	}
	if len(rep.Failed) > 0 {
		return Item{}, fmt.Errorf("pull %s: %s", rep.Failed[0].Path, rep.Failed[0].Error)
	}
	if it, err := l.Item(res.ID); err == nil {
		return it, nil
	}
	items, err := l.ItemsFrom(res.Source.Server, res.Source.StudyUID, res.Source.SeriesUID)
	if err != nil || len(items) == 0 {
		return Item{}, fmt.Errorf("series %s pulled, but no item came of it: %w", res.Source.SeriesUID, pacs.ErrNotFound)
	}
	return items[0], nil
}

// ItemsFrom returns the library's items pulled from a study on a server
// (of one series when seriesUID is not "").
func (l *Library) ItemsFrom(server, studyUID, seriesUID string) ([]Item, error) {
	items, err := l.cat.Items()
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, it := range items {
		s := it.Source
		if s != nil && s.Server == server && s.StudyUID == studyUID && (seriesUID == "" || s.SeriesUID == seriesUID) {
			out = append(out, it)
		}
	}
	return out, nil
}

// RemotePreview renders a department result that is not in this library:
// a middle instance of its series, as a JPEG of about size pixels, by the
// PACS it names (WADO-RS rendered). Nothing is stored.
func (l *Library) RemotePreview(ctx context.Context, it Item, size int) ([]byte, error) {
	if it.Source == nil || l.pacsFor == nil {
		return nil, ErrNotInPACS
	}
	if err := checkSource(it.Source); err != nil {
		return nil, err
	}
	c, err := l.pacsFor(it.Source.Server)
	if err != nil {
		return nil, fmt.Errorf("%w: PACS %q: %w", ErrNotInPACS, it.Source.Server, err)
	}
	q := pacs.Query{Limit: 1}
	if it.Frames > 1 && it.Kind == "volume" {
		q.Offset = it.Frames / 2
	}
	inst, err := c.FindInstances(ctx, it.Source.StudyUID, it.Source.SeriesUID, q)
	if err == nil && len(inst) == 0 && q.Offset > 0 {
		inst, err = c.FindInstances(ctx, it.Source.StudyUID, it.Source.SeriesUID, pacs.Query{Limit: 1})
	}
	if err != nil {
		return nil, err
	}
	if len(inst) == 0 {
		return nil, fmt.Errorf("series %s: %w", it.Source.SeriesUID, pacs.ErrNotFound)
	}
	if err := uid.Check("instance UID", inst[0].UID); err != nil {
		return nil, err
	}
	b, _, err := c.Rendered(ctx, it.Source.StudyUID, it.Source.SeriesUID, inst[0].UID, size)
	return b, err
}

// checkSource refuses a department result whose study or series UID is not
// a DICOM UID before anything is asked of a PACS (the index is written by
// anyone holding its key; a "UID" such as ../../x must reach no URL).
func checkSource(s *Source) error {
	if err := uid.Check("study UID", s.StudyUID); err != nil {
		return err
	}
	return uid.Check("series UID", s.SeriesUID)
}
