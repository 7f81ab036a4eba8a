// Package library is the domain of M3Ret Viewer: a folder on disk holding
// imported items (DICOM images, volumes, videos, 2D pictures), their
// thumbnails and embeddings (the catalog), a vector index and a bleve
// metadata index, and the operations on them: Open, Import, Query, Item,
// Remove, Reembed (to another model), Close. Several processes may use one
// library folder: readers share it, a writer has it to itself, and either
// waits for the other (see Access). It never imports Fyne; the encoder reaches it only through
// the Embedder interface.
package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// Embedder turns samples into L2-normalised vectors of one embedding space,
// named by ModelID. inference.Encoder implements it; tests pass a fake.
type Embedder interface {
	Embed(ctx context.Context, samples []media.Sample) ([][]float32, error)
	ModelID() string
}

// Item is the record of one imported image, volume or video.
type Item = catalog.Item

// Source is where an item pulled from a PACS came from.
type Source = catalog.Source

// Errors a caller may test for.
var (
	ErrNotFound      = catalog.ErrNotFound
	ErrLocked        = catalog.ErrLocked   // another process is changing the library
	ErrReadOnly      = catalog.ErrReadOnly // a change asked of a library opened to read
	ErrDamaged       = catalog.ErrDamaged
	ErrForeign       = catalog.ErrForeign // the catalog belongs to another library
	ErrModelMismatch = errors.New("library was built with another model")
)

const settingModel = "model"

// Library is an open library folder. Queries may run while an import runs;
// imports run one at a time. Several processes may read a library at once;
// one changes it at a time (see Access).
type Library struct {
	dir   string
	cat   *catalog.Catalog
	meta  *index.Meta // the same value for the library's life; its index changes hands (see Adopt)
	vecMu sync.RWMutex
	vecs  index.Vectors // see vectors()
	emb   inUse         // the model in use, replaced at once by a re-embed (reembed.go)
	// spaceMu is held (read) by a query from its embedding to its results,
	// and (write) by a re-embed's switch: a query never mixes two models.
	spaceMu sync.RWMutex

	lockState // the lock file and the access it is held for (lock.go)

	pacsFor   PACSResolver // how Load reaches a pulled item's PACS (nil: it does not)
	idxMu     sync.Mutex
	idx       Index // the index queries search (nil: the library's own)
	notesMu   sync.Mutex
	notes     []string
	dirty     bool // vectors changed since the graph was saved
	importMu  sync.Mutex
	closeOnce sync.Once
	closeErr  error
	// BatchSize is the number of samples embedded together (default 16).
	BatchSize int
}

// DefaultDir is the user's library in the platform's data folder.
func DefaultDir() string {
	base, err := os.UserConfigDir()
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		base, err = d, nil
	} else if home, herr := os.UserHomeDir(); herr == nil && filepath.Base(base) == ".config" {
		base = filepath.Join(home, ".local", "share")
	}
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "m3ret", "library")
}

// emptyCatalog refuses a library folder whose catalog.db is empty while
// its indexes are there: the catalog was damaged (truncated), and taking
// the folder for a new library would overwrite the indexes. An empty
// catalog.db alone (a creation cut short) is removed and made again.
func emptyCatalog(dir string) error {
	path := filepath.Join(dir, "catalog.db")
	st, err := os.Stat(path)
	if err != nil || st.Size() > 0 {
		return nil
	}
	if err := damagedIfIndexed(dir); err != nil {
		return err
	}
	return os.Remove(path)
}

// damagedIfIndexed refuses a folder without a catalog (or with an empty
// one) that holds the library's indexes.
func damagedIfIndexed(dir string) error {
	for _, other := range []string{vectorsFile, "meta.bleve"} {
		if _, err := os.Stat(filepath.Join(dir, other)); err == nil {
			return fmt.Errorf("%w: it is empty, but the folder holds the library's indexes", ErrDamaged)
		}
	}
	return nil
}

// RecordedModel returns the ID of the model whose embeddings the library in
// dir holds, or "" when dir holds no library yet. It reads the catalog
// without the library's lock (OpenFor reads it under the lock).
func RecordedModel(dir string) (string, error) {
	path := filepath.Join(dir, "catalog.db")
	if st, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err == nil && st.Size() == 0 {
		return "", damagedIfIndexed(dir)
	}
	cat, err := catalog.OpenReadOnly(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer cat.Close()
	return cat.Setting(settingModel)
}

// Open opens the library in dir (creating it, readable by the user alone)
// for the embedding space of emb, to read and change it; while another
// process uses it, Open waits. A library built with another model is
// refused with ErrModelMismatch. Missing or corrupt indexes are rebuilt from
// the catalog.
func Open(dir string, emb Embedder) (*Library, error) {
	return OpenWith(context.Background(), dir, emb, OpenOptions{})
}

// openWrite opens the catalog for writing (creating the folder) and, with
// the embedder choose gives for the model it records, the rest: the caller
// holds the lock exclusive.
func (l *Library) openWrite(choose func(recorded string) (Embedder, error)) error {
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return fmt.Errorf("create library: %w", err)
	}
	if err := os.Chmod(l.dir, 0o700); err != nil {
		return fmt.Errorf("protect library: %w", err)
	}
	if err := emptyCatalog(l.dir); err != nil {
		return err
	}
	cat, err := catalog.Open(filepath.Join(l.dir, "catalog.db"))
	if err != nil {
		return err
	}
	l.cat = cat
	if err := l.choose(choose); err != nil {
		return err
	}
	if err := l.open(); err != nil {
		return err
	}
	l.gen, err = l.cat.Generation()
	return err
}

func (l *Library) open() error {
	model := l.emb.ModelID()
	have, err := l.cat.Setting(settingModel)
	if err != nil {
		return err
	}
	switch have {
	case "":
		if err := l.cat.SetSetting(settingModel, model); err != nil {
			return err
		}
	case model:
	default:
		return fmt.Errorf("%w: it holds %s embeddings, asked for %s", ErrModelMismatch, have, model)
	}
	if err := l.openMeta(); err != nil {
		return err
	}
	if err := l.clearScratch(); err != nil {
		return err
	}
	return l.loadVectors()
}

// scratchFolder holds the temporary copies of archive members that
// readers need as real files (videos, NIfTI in a ZIP), inside the library
// folder so that none sits in a shared temporary folder; what a killed
// process left there is removed when a writer opens the library (the
// lock is held exclusive then: no other process is reading).
const scratchFolder = "scratch"

func (l *Library) clearScratch() error {
	dir := filepath.Join(l.dir, scratchFolder)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear the library's scratch folder: %w", err)
	}
	return os.Mkdir(dir, 0o700)
}

// scratch makes the readers under ctx copy archive members into the
// library's scratch folder, and share one inflation budget per archive.
func (l *Library) scratch(ctx context.Context) context.Context {
	return ingest.WithArchiveBudget(ingest.WithScratch(ctx, filepath.Join(l.dir, scratchFolder)))
}

// ReadFile decodes a file (or archive member) that need not be in the
// library, its temporary copies, if any, inside the library folder.
func (l *Library) ReadFile(ctx context.Context, path string) (*media.Sample, error) {
	return ingest.ReadFileContext(l.scratch(ctx), path)
}

// openMeta opens the metadata index, rebuilding it from the catalog when
// it is new, or behind the catalog (a kill between the catalog's commit
// and the index's write left items no filter would find).
func (l *Library) openMeta() error {
	path := filepath.Join(l.dir, "meta.bleve")
	meta, fresh, err := index.OpenMeta(path)
	if err != nil {
		return err
	}
	if err := l.meta.Adopt(meta); err != nil {
		return err
	}
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	if !fresh && !l.metaCurrent(l.meta, gen) {
		l.note("the metadata index was behind the catalog; rebuilt it from the catalog")
		if err := l.meta.Suspend(); err != nil {
			return err
		}
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("remove stale metadata index: %w", err)
		}
		if meta, _, err = index.OpenMeta(path); err != nil {
			return err
		}
		if err := l.meta.Adopt(meta); err != nil {
			return err
		}
		fresh = true
	}
	if fresh {
		return l.refillMeta()
	}
	return nil
}

func (l *Library) refillMeta() error { return l.fillMeta(l.meta) }

// fillMeta indexes every item of the catalog in meta.
func (l *Library) fillMeta(meta *index.Meta) error {
	items, err := l.cat.Items()
	if err != nil {
		return err
	}
	texts, err := l.userTexts()
	if err != nil {
		return err
	}
	docs := map[string]index.Doc{}
	for _, it := range items {
		docs[it.ID] = withUserText(it, texts[it.ID])
	}
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	annGen, err := l.cat.AnnotationGeneration()
	if err != nil {
		return err
	}
	return meta.PutAnnotated(docs, gen, annGen)
}

// Dir is the library folder.
func (l *Library) Dir() string { return l.dir }

// ModelID is the embedding space of the library.
func (l *Library) ModelID() string { return l.emb.ModelID() }

// Close closes the indexes and the catalog; later calls do nothing.
func (l *Library) Close() error {
	l.closeOnce.Do(func() {
		l.stopResuming()
		var errs []error
		if l.dirty && l.cat != nil && !l.cat.ReadOnly() {
			errs = append(errs, l.saveVectors())
		}
		if l.meta != nil {
			errs = append(errs, l.meta.Close())
		}
		if l.cat != nil {
			errs = append(errs, l.cat.Close())
		}
		errs = append(errs, l.unlock())
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// Items returns every item, oldest first.
func (l *Library) Items() ([]Item, error) { return l.cat.Items() }

// Item returns one item.
func (l *Library) Item(id string) (Item, error) { return l.cat.Get(id) }

// Thumbnail returns an item's PNG thumbnail.
func (l *Library) Thumbnail(id string) ([]byte, error) { return l.cat.Thumbnail(id) }

// Load decodes an item's sources again, for viewing; it stops with
// ctx.Err() when ctx is done.
func (l *Library) Load(ctx context.Context, id string) (*media.Sample, error) {
	ctx = l.scratch(ctx)
	it, err := l.cat.Get(id)
	if err != nil {
		return nil, err
	}
	s, err := loadItem(ctx, it)
	if err != nil { // a pulled item whose local copy is gone is fetched again
		if again, ferr := l.refetch(ctx, it, err); ferr != nil {
			err = ferr
		} else if again {
			s, err = loadItem(ctx, it)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("load item %s: %w", id, err)
	}
	return s, nil
}

// Remove deletes an item from the library (never its source file).
func (l *Library) Remove(id string) error {
	l.importMu.Lock()
	defer l.importMu.Unlock()
	return l.writing(context.Background(), func() error { return l.remove(id) })
}

func (l *Library) remove(id string) error {
	if err := l.cat.Delete(id); err != nil {
		return err
	}
	l.vecs.Remove(id)
	l.dirty = true
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	return l.meta.Delete(id, gen)
}

// Stats counts items by kind and by modality.
type Stats struct {
	Items      int            `json:"items"`
	ByKind     map[string]int `json:"by_kind"`
	ByModality map[string]int `json:"by_modality"`
}

// Stats returns the library's counts.
func (l *Library) Stats() (Stats, error) {
	items, err := l.cat.Items()
	st := Stats{Items: len(items), ByKind: map[string]int{}, ByModality: map[string]int{}}
	for _, it := range items {
		st.ByKind[it.Kind]++
		st.ByModality[it.Modality]++
	}
	return st, err
}

func docOf(it Item) index.Doc {
	d := index.Doc{Kind: it.Kind, Modality: it.Modality, BodyPart: it.BodyPart, Description: it.Description,
		PatientID: it.PatientID, SeriesUID: it.SeriesUID, Format: it.Format,
		Width: it.Width, Height: it.Height, Frames: it.Frames, Volumes: it.Volumes,
		SpacingX: it.Spacing[0], SpacingY: it.Spacing[1], SpacingZ: it.Spacing[2],
		FrameTime: it.FrameTime, Duration: it.Duration}
	if t, err := time.Parse("20060102", it.StudyDate); err == nil {
		d.StudyDate = t.Format(time.RFC3339)
	}
	return d
}
