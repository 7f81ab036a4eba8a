package library

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"io"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// ThumbSide is the longer side of stored thumbnails, in pixels.
const ThumbSide = 160

// Failure is a file that could not be imported, and why.
type Failure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Report summarises an import. Items lists what this run added;
// SkippedFiles says why files were skipped (already in the library, not an
// image object).
type Report struct {
	Imported     int       `json:"imported"`
	Skipped      int       `json:"skipped"`
	Failed       []Failure `json:"failed"`
	SkippedFiles []Failure `json:"skipped_files,omitempty"`
	Items        []Item    `json:"items"`
}

// decoded is one file after the read stage.
type decoded struct {
	path   string
	files  int // source files behind it
	sample *media.Sample
	item   Item
	thumb  []byte
	err    error
}

// Import reads files and folders (recursively) into the library: decode
// (a bounded pool of workers), embed (batches, one session), then store and
// index (one writer). Files already in the library are skipped; a file that
// fails gets an entry in the report and the run goes on; what was stored
// stays stored if ctx is cancelled (the walk of the folders stops too).
// progress, if not nil, is called with (done, total) from one goroutine at
// a time, in files: while the folders are walked, (0, files found so far),
// the total growing as they are found; then (files done, files found).
func (l *Library) Import(ctx context.Context, paths []string, progress func(done, total int)) (*Report, error) {
	ctx = l.scratch(ctx)
	l.importMu.Lock()
	defer l.importMu.Unlock()
	rep := &Report{Failed: []Failure{}, Items: []Item{}}
	return rep, l.writing(ctx, func() error { return l.importPaths(ctx, paths, nil, rep, progress) })
}

// importPaths imports into rep; src, when not nil, is recorded as the
// items' source. Files that are not DICOM are stored as their headers are
// read, while planning goes on; DICOM series once every header is in (a
// series may span folders). The caller holds importMu.
func (l *Library) importPaths(ctx context.Context, paths []string, src *Source, rep *Report, progress func(done, total int)) error {
	files, err := walkPaths(ctx, paths, rep, progress)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prog := &fileProgress{total: len(files), report: progress}
	prog.add(0)
	units := make(chan ingest.Unit)
	var lookupErr error
	planner := ingest.NewPlanner(ctx, l.knownInstance(&lookupErr))
	planner.Stream(func(u ingest.Unit) { sendUnit(ctx, units, u) })
	var problems []ingest.Problem
	planning := make(chan struct{})
	go func() {
		defer close(planning)
		defer close(units)
		for _, f := range files {
			planner.Add(f)
		}
		var series []ingest.Unit
		series, problems = planner.Units(nil)
		prog.add(len(problems))
		for _, u := range series {
			sendUnit(ctx, units, u)
		}
	}()
	err = l.importUnits(ctx, units, src, rep, prog.done)
	cancel() // a failed store stops the planning
	<-planning
	return errors.Join(err, l.planned(problems, lookupErr, rep))
}

// sendUnit hands u to the import pipeline unless ctx ends first.
func sendUnit(ctx context.Context, units chan<- ingest.Unit, u ingest.Unit) {
	select {
	case units <- u:
	case <-ctx.Done():
	}
}

// fileProgress reports an import's progress in files: those the pipeline
// finished and those planning skipped or failed, safe for both to call.
type fileProgress struct {
	mu             sync.Mutex
	stored, others int
	total          int
	report         func(done, total int)
}

func (p *fileProgress) done(n int) { p.set(func() { p.stored = n }) }
func (p *fileProgress) add(n int)  { p.set(func() { p.others += n }) }

func (p *fileProgress) set(change func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	change()
	if p.report != nil {
		p.report(min(p.stored+p.others, p.total), p.total)
	}
}

// unitsOf feeds planned units to the pipeline.
func unitsOf(units []ingest.Unit) <-chan ingest.Unit {
	ch := make(chan ingest.Unit, len(units))
	for _, u := range units {
		ch <- u
	}
	close(ch)
	return ch
}

// importUnits embeds and stores units as they come, then saves the vector
// index; progress (may be nil) gets the files done.
func (l *Library) importUnits(ctx context.Context, units <-chan ingest.Unit, src *Source, rep *Report, progress func(done int)) error {
	start := time.Now().UTC() // every item of this run: ties sort by path
	err := l.pipeline(ctx, units, rep, l.importWriter(rep, start, src), progress)
	if rep.Imported > 0 {
		l.dirty = true
		if serr := l.saveVectors(); serr == nil {
			l.dirty = false
		} else if err == nil {
			err = serr
		}
	}
	return err
}

// knownInstance is the planner's test for instances already imported; a
// failed lookup is kept in *errp.
func (l *Library) knownInstance(errp *error) func(uid string) bool {
	return func(uid string) bool {
		has, err := l.cat.HasInstance(uid)
		if err != nil && *errp == nil {
			*errp = err
		}
		return has
	}
}

// planned records the files planning skipped or failed.
func (l *Library) planned(problems []ingest.Problem, lookupErr error, rep *Report) error {
	if lookupErr != nil {
		return fmt.Errorf("plan import: %w", lookupErr)
	}
	for _, p := range problems {
		if errors.Is(p.Err, context.Canceled) || errors.Is(p.Err, context.DeadlineExceeded) {
			continue // not tried: the import stopped first
		}
		f := Failure{Path: p.Path, Error: p.Err.Error()}
		if p.Skipped {
			rep.Skipped++
			rep.SkippedFiles = append(rep.SkippedFiles, f)
			continue
		}
		rep.Failed = append(rep.Failed, f)
	}
	return nil
}

// pipeline decodes units with a pool of workers while one writer embeds
// and stores them through w; progress (may be nil) gets the count of
// source files done.
func (l *Library) pipeline(ctx context.Context, units <-chan ingest.Unit, rep *Report, w writer, progress func(done int)) error {
	if progress == nil {
		progress = func(int) {}
	}
	out := make(chan decoded, 2*l.batchSize(w.embedder(l)))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(out)
		return l.decodeAll(gctx, units, out)
	})
	g.Go(func() error { return l.storeAll(gctx, out, rep, w, progress) })
	return g.Wait()
}

// batchSize is l.BatchSize, else the embedder's own (BatchSize() int), else 16.
func (l *Library) batchSize(emb Embedder) int {
	if l.BatchSize > 0 {
		return l.BatchSize
	}
	if b, ok := emb.(interface{ BatchSize() int }); ok && b.BatchSize() > 0 {
		return b.BatchSize()
	}
	return 16
}

func (l *Library) decodeAll(ctx context.Context, units <-chan ingest.Unit, out chan<- decoded) error {
	var pool errgroup.Group
	pool.SetLimit(runtime.NumCPU())
	for u := range units {
		if ctx.Err() != nil {
			break // the sender stops at its ctx, ended once this returns
		}
		pool.Go(func() error {
			d := decodeUnit(ctx, u)
			if ctx.Err() != nil {
				return nil // cancelled mid-decode: not a failure of the file
			}
			select {
			case out <- d:
			case <-ctx.Done():
			}
			return nil
		})
	}
	pool.Wait()
	return ctx.Err()
}

func decodeUnit(ctx context.Context, u ingest.Unit) decoded {
	path := u.Paths[0]
	d := decoded{path: path, files: len(u.Paths)}
	s, err := u.Read(ctx)
	if err != nil {
		d.err = err
		return d
	}
	hash, err := unitHash(ctx, u)
	if err != nil {
		d.err = err
		return d
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, s.Thumbnail(ThumbSide)); err != nil {
		d.err = fmt.Errorf("thumbnail: %w", err)
		return d
	}
	d.sample, d.thumb = s, buf.Bytes()
	d.item = itemOf(s, path, hash)
	if len(u.Paths) > 1 {
		d.item.Files = u.Paths
		d.item.ID = "s" + hash[:16]
	}
	d.item.Instances = u.Instances
	return d
}

// unitHash hashes a file's content, or a series' instance UIDs in order
// (reading thousands of slices twice to hash them would double the work).
func unitHash(ctx context.Context, u ingest.Unit) (string, error) {
	if len(u.Paths) == 1 {
		return fileHash(ctx, u.Paths[0])
	}
	h := sha256.New()
	io.WriteString(h, "dicom-series:")
	for _, uid := range u.Instances {
		io.WriteString(h, uid+"\n")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func itemOf(s *media.Sample, path, hash string) Item {
	return Item{
		ID: ItemID(s.Meta, hash), Kind: string(s.Kind), Modality: s.Meta.Modality, BodyPart: s.Meta.BodyPart,
		StudyDate: s.Meta.StudyDate, Description: s.Meta.SeriesDescription, PatientID: s.Meta.PatientID,
		SeriesUID: s.Meta.SeriesUID, Path: path, Format: s.Meta.SourceFormat,
		Width: s.Width, Height: s.Height, Frames: s.TotalFrames(), Hash: hash,
		Spacing: s.Spacing, FrameTime: s.FrameTime, Volumes: s.Meta.Volumes, Duration: s.Meta.Duration,
		Orientation: s.Meta.Orientation,
	}
}

// ItemID derives a stable id: from the SOP Instance UID for DICOM, from the
// content hash otherwise. UIDs themselves never appear in ids.
func ItemID(m media.Meta, contentHash string) string {
	if m.InstanceUID != "" {
		sum := sha256.Sum256([]byte("dicom-sop:" + m.InstanceUID))
		return "d" + hex.EncodeToString(sum[:8])
	}
	return "f" + contentHash[:16]
}

// FileHash is the hex sha256 of a file or archive member (as ingest.Walk
// names them): the content hash behind item ids and data manifests.
func FileHash(path string) (string, error) { return fileHash(context.Background(), path) }

// fileHash is FileHash charging an archive member to its archive's budget
// under ctx.
func fileHash(ctx context.Context, path string) (string, error) {
	f, err := ingest.OpenContext(ctx, path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// errSkip tells storeAll that a decoded file needs no work.
var errSkip = errors.New("skip")

// writer is what storeAll does with decoded files: admit decides for each
// one (nil: take it; errSkip: count it as skipped; another error: a
// failure), store keeps one embedded batch; emb embeds the batches (nil:
// the library's model).
type writer struct {
	admit func(d *decoded) error
	store func(batch []decoded, vecs [][]float32) error
	emb   Embedder
}

// embedder is the model that embeds w's batches.
func (w writer) embedder(l *Library) Embedder {
	if w.emb != nil {
		return w.emb
	}
	return &l.emb
}

// storeAll is the single writer: it batches decoded files, embeds them and
// hands each batch to w.store.
func (l *Library) storeAll(ctx context.Context, in <-chan decoded, rep *Report, w writer, progress func(int)) error {
	done := 0
	var batch []decoded
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := l.embedBatch(ctx, w.embedder(l), batch, rep, w.store)
		for _, d := range batch {
			done += d.files
		}
		batch = batch[:0]
		progress(done)
		return err
	}
	for d := range in {
		err := d.err
		if err == nil {
			err = w.admit(&d)
		}
		switch {
		case errors.Is(err, errSkip):
			rep.Skipped++
		case err != nil:
			rep.Failed = append(rep.Failed, Failure{Path: d.path, Error: err.Error()})
		default:
			batch = append(batch, d)
			if len(batch) < l.batchSize(w.embedder(l)) && len(in) > 0 {
				continue
			}
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		done += d.files
		progress(done)
	}
	if err := flush(); err != nil {
		return err
	}
	return ctx.Err()
}

// embedBatch embeds a batch and stores it; a model failure fails the
// batch's files, not the run.
func (l *Library) embedBatch(ctx context.Context, emb Embedder, batch []decoded, rep *Report, store func([]decoded, [][]float32) error) error {
	samples := make([]media.Sample, len(batch))
	for i, d := range batch {
		samples[i] = *d.sample
	}
	vecs, err := emb.Embed(ctx, samples)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, d := range batch {
			rep.Failed = append(rep.Failed, Failure{Path: d.path, Error: fmt.Sprintf("embed: %v", err)})
		}
		return nil
	}
	return store(batch, vecs)
}

// importWriter admits files not yet in the library and stores them whole.
func (l *Library) importWriter(rep *Report, added time.Time, src *Source) writer {
	seen := map[string]bool{}
	return writer{
		admit: func(d *decoded) error {
			has, err := l.cat.Has(d.item.ID)
			if err != nil {
				return fmt.Errorf("look up item: %w", err)
			}
			if seen[d.item.ID] || has {
				return errSkip
			}
			seen[d.item.ID] = true
			d.item.Source = src
			return nil
		},
		store: func(batch []decoded, vecs [][]float32) error { return l.storeBatch(batch, vecs, rep, added) },
	}
}

// putEntries stores entries in one catalog transaction; when that fails,
// it stores them one at a time, so that one item the catalog refuses fails
// that item alone (listed in rep). It returns the entries stored, with
// their vectors; a full disk fails the import (ErrDiskFull) instead of
// every file after it.
func (l *Library) putEntries(entries []catalog.Entry, vecs [][]float32, batch []decoded, rep *Report) ([]catalog.Entry, [][]float32, error) {
	err := l.cat.PutAll(entries)
	if err == nil {
		return entries, vecs, nil
	}
	if full := diskFull(err); full != nil {
		return nil, nil, full
	}
	var keptE []catalog.Entry
	var keptV [][]float32
	for i, e := range entries {
		if err := l.cat.PutAll([]catalog.Entry{e}); err != nil {
			if full := diskFull(err); full != nil {
				return keptE, keptV, full
			}
			rep.Failed = append(rep.Failed, Failure{Path: batch[i].path, Error: fmt.Sprintf("store: %v", err)})
			continue
		}
		keptE, keptV = append(keptE, e), append(keptV, vecs[i])
	}
	return keptE, keptV, nil
}

// ErrDiskFull is wrapped when the disk holding the library has no space
// left: an import stops there, what it stored before stays stored.
var ErrDiskFull = errors.New("the disk holding the library is full; free some space and import again to finish")

// diskFull wraps err in ErrDiskFull when it says no space is left, else
// returns nil (bleve flattens the errors of its writers into text).
func diskFull(err error) error {
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), syscall.ENOSPC.Error()) {
		return fmt.Errorf("%w (%v)", ErrDiskFull, err)
	}
	return nil
}

// storeBatch stores a batch of new items in one catalog transaction, then
// indexes them.
func (l *Library) storeBatch(batch []decoded, vecs [][]float32, rep *Report, added time.Time) error {
	entries := make([]catalog.Entry, len(batch))
	for i, d := range batch {
		d.item.Added = added
		entries[i] = catalog.Entry{Item: d.item, Thumbnail: d.thumb, Model: l.emb.ModelID(), Vector: vecs[i]}
	}
	entries, vecs, putErr := l.putEntries(entries, vecs, batch, rep)
	docs := map[string]index.Doc{}
	for i, e := range entries {
		if err := l.vecs.Add(e.Item.ID, vecs[i]); err != nil {
			return fmt.Errorf("index %s: %w", e.Item.ID, err)
		}
		docs[e.Item.ID] = docOf(e.Item)
		rep.Items = append(rep.Items, e.Item)
	}
	rep.Imported += len(entries)
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	if err := l.meta.Put(docs, gen); err != nil {
		if full := diskFull(err); full != nil {
			return full // the metadata index catches up at the next open
		}
		return fmt.Errorf("index metadata: %w", err)
	}
	return putErr
}
