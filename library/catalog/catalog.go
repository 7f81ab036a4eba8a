// Package catalog is the durable store of a library: item records,
// thumbnails and embeddings keyed by (model id, item id), in one bbolt file
// written in transactions, so a crash at any moment leaves a catalog that
// opens. The vector and metadata indexes can always be rebuilt from it.
// Lock is the library folder's lock file, which orders the processes
// using a library: readers (OpenReadOnly) share it, a writer holds it alone.
//
// A damaged file is ErrDamaged, never a panic (guard.go); Inspect checks a
// file page by page and Salvage reads what it can of a damaged one into a
// new file, both through a bounds-checked reader of bbolt's pages that
// never goes through bbolt (pages.go, walk.go). A catalog carries its
// library's id, and one of another library is refused (identity.go).
package catalog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors a caller may test for.
var (
	ErrNotFound = errors.New("item not found")
	ErrLocked   = errors.New("the library is in use by another m3ret")
	ErrDamaged  = errors.New("catalog.db is damaged")
)

// Item is the record of one imported image, volume or video. Several fields
// hold protected health information: never log them.
type Item struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Modality    string    `json:"modality"`
	BodyPart    string    `json:"body_part,omitempty"`
	StudyDate   string    `json:"study_date,omitempty"`
	Description string    `json:"description,omitempty"`
	PatientID   string    `json:"patient_id,omitempty"`
	SeriesUID   string    `json:"series_uid,omitempty"`
	Path        string    `json:"path"`
	Format      string    `json:"format"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	Frames      int       `json:"frames"`
	Hash        string    `json:"hash"`
	Added       time.Time `json:"added"`
	// Files are the source files of a multi-file item (a DICOM series) in
	// slice order; empty when Path is the only one.
	Files []string `json:"files,omitempty"`
	// Instances are the SOP Instance UIDs of a DICOM item's files.
	Instances []string `json:"-"`
	// Spacing is the pixel size and slice distance in mm, when known.
	Spacing [3]float64 `json:"spacing,omitempty"`
	// FrameTime is the time between video frames in ms, when known.
	FrameTime float64 `json:"frame_time_ms,omitempty"`
	Volumes   int     `json:"volumes,omitempty"`
	Duration  float64 `json:"duration_s,omitempty"`
	// Orientation names the patient directions of +x, +y, +t (e.g. "LPS").
	Orientation string `json:"orientation,omitempty"`
	// Source says where an item pulled from a PACS came from, so that its
	// pixels can be fetched again; nil for files imported from disk.
	Source *Source `json:"source,omitempty"`
}

// Source is the PACS an item was pulled from and its DICOM UIDs there.
type Source struct {
	Server    string `json:"server"`
	StudyUID  string `json:"study_uid"`
	SeriesUID string `json:"series_uid"`
}

// Sources returns the item's source files.
func (it Item) Sources() []string {
	if len(it.Files) > 0 {
		return it.Files
	}
	return []string{it.Path}
}

var (
	bItems    = []byte("items")
	bThumbs   = []byte("thumbs")
	bSettings = []byte("settings")
	// bInstances maps a SOP Instance UID to the id of the item holding it.
	bInstances = []byte("instances")
	buckets    = [][]byte{bItems, bThumbs, bSettings, bInstances}
)

func vecBucket(model string) []byte { return []byte("vec:" + model) }

var keyGeneration = []byte("generation")

// bump increments the catalog's generation inside a writing transaction.
func bump(tx *bolt.Tx) error {
	b := tx.Bucket(bSettings)
	g := uint64(0)
	if v := b.Get(keyGeneration); len(v) == 8 {
		g = binary.LittleEndian.Uint64(v)
	}
	return b.Put(keyGeneration, binary.LittleEndian.AppendUint64(nil, g+1))
}

// Generation counts the transactions that changed items or vectors: an
// index saved at one generation is stale at any other.
func (c *Catalog) Generation() (uint64, error) {
	var g uint64
	err := c.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bSettings).Get(keyGeneration); len(v) == 8 {
			g = binary.LittleEndian.Uint64(v)
		}
		return nil
	})
	return g, err
}

// Catalog is an open catalog file. It is safe for concurrent use.
type Catalog struct {
	path string
	mu   sync.RWMutex
	db   *bolt.DB // nil while suspended (see Suspend)
	ro   bool
	// damaged is the damage a transaction met (see guard); a catalog
	// opened again (Resume) forgets it, and finds it again if it is there.
	damaged atomic.Pointer[error]
}

// Open opens (creating if needed) the catalog file at path, readable by the
// user alone, for reading and writing.
func Open(path string) (*Catalog, error) {
	db, err := openWrite(path)
	if err != nil {
		return nil, err
	}
	return &Catalog{path: path, db: db}, nil
}

func openWrite(path string) (*bolt.DB, error) {
	db, err := openBolt(path, false)
	if err != nil {
		return nil, err
	}
	if err := checkClaim(db, path); err != nil { // before anything is written
		db.Close()
		return nil, err
	}
	err = guarded(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			for _, b := range buckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init catalog: %w", err)
	}
	if err := claim(db, path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Entry is everything stored for one item in one transaction.
type Entry struct {
	Item      Item
	Thumbnail []byte // PNG
	Model     string
	Vector    []float32
}

// PutAll stores entries in one transaction: all of them or none.
func (c *Catalog) PutAll(entries []Entry) error {
	return c.update(func(tx *bolt.Tx) error {
		if err := bump(tx); err != nil {
			return err
		}
		for _, e := range entries {
			rec, err := json.Marshal(e.Item)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bItems).Put([]byte(e.Item.ID), rec); err != nil {
				return err
			}
			if err := tx.Bucket(bThumbs).Put([]byte(e.Item.ID), e.Thumbnail); err != nil {
				return err
			}
			for _, uid := range e.Item.Instances {
				if uid == "" { // a DICOM file without SOP Instance UID: its id is its content's
					continue
				}
				if err := tx.Bucket(bInstances).Put([]byte(uid), []byte(e.Item.ID)); err != nil {
					return err
				}
			}
			if err := putVector(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func putVector(tx *bolt.Tx, e Entry) error {
	if e.Vector == nil { // none to keep (a record salvaged without it)
		return nil
	}
	vb, err := tx.CreateBucketIfNotExists(vecBucket(e.Model))
	if err != nil {
		return err
	}
	return vb.Put([]byte(e.Item.ID), encodeVec(e.Vector))
}

// PutVectors stores the embeddings of existing items (Entry.Item.ID,
// Model, Vector) in one transaction.
func (c *Catalog) PutVectors(entries []Entry) error {
	return c.update(func(tx *bolt.Tx) error {
		if err := bump(tx); err != nil {
			return err
		}
		for _, e := range entries {
			if tx.Bucket(bItems).Get([]byte(e.Item.ID)) == nil {
				return fmt.Errorf("vector for %s: %w", e.Item.ID, ErrNotFound)
			}
			if err := putVector(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutVectorsAside stores the embeddings of existing items under a model
// the indexes do not serve (a re-embed staging a new model) in one
// transaction. The generation stays: the indexes of the model in use
// remain current.
func (c *Catalog) PutVectorsAside(entries []Entry) error {
	return c.update(func(tx *bolt.Tx) error {
		for _, e := range entries {
			if tx.Bucket(bItems).Get([]byte(e.Item.ID)) == nil {
				return fmt.Errorf("vector for %s: %w", e.Item.ID, ErrNotFound)
			}
			if err := putVector(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// HasInstance reports whether a DICOM instance (SOP Instance UID) belongs
// to a stored item.
func (c *Catalog) HasInstance(uid string) (bool, error) {
	return c.has(bInstances, uid)
}

// Has reports whether an item with this id is stored.
func (c *Catalog) Has(id string) (bool, error) {
	return c.has(bItems, id)
}

func (c *Catalog) has(bucket []byte, key string) (bool, error) {
	found := false
	err := c.view(func(tx *bolt.Tx) error {
		found = tx.Bucket(bucket).Get([]byte(key)) != nil
		return nil
	})
	return found, err
}

// Get returns the item with this id.
func (c *Catalog) Get(id string) (Item, error) {
	var it Item
	err := c.view(func(tx *bolt.Tx) error {
		rec := tx.Bucket(bItems).Get([]byte(id))
		if rec == nil {
			return ErrNotFound
		}
		return decodeItem(id, rec, &it)
	})
	return it, err
}

// Items returns every item, oldest first.
func (c *Catalog) Items() ([]Item, error) {
	var out []Item
	err := c.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bItems).ForEach(func(k, rec []byte) error {
			var it Item
			if err := decodeItem(string(k), rec, &it); err != nil {
				return err
			}
			out = append(out, it)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Added.Equal(out[j].Added) {
			return out[i].Added.Before(out[j].Added)
		}
		return out[i].Path < out[j].Path
	})
	return out, err
}

// Thumbnail returns the PNG thumbnail of an item.
func (c *Catalog) Thumbnail(id string) ([]byte, error) {
	var png []byte
	err := c.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bThumbs).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		png = append([]byte(nil), v...)
		return nil
	})
	return png, err
}

// Vector returns the embedding of an item under model.
func (c *Catalog) Vector(model, id string) ([]float32, error) {
	var vec []float32
	err := c.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(vecBucket(model))
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		var err error
		vec, err = decodeVector(v)
		return err
	})
	return vec, err
}

// EachVector calls fn with every embedding stored under model.
func (c *Catalog) EachVector(model string, fn func(id string, vec []float32) error) error {
	return c.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(vecBucket(model))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			vec, err := decodeVector(v)
			if err != nil {
				return err
			}
			return fn(string(k), vec)
		})
	})
}

// Delete removes an item, its thumbnail and its embeddings under every model.
func (c *Catalog) Delete(id string) error {
	return c.update(func(tx *bolt.Tx) error {
		k := []byte(id)
		if tx.Bucket(bItems).Get(k) == nil {
			return ErrNotFound
		}
		if err := bump(tx); err != nil {
			return err
		}
		if err := tx.Bucket(bItems).Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bThumbs).Delete(k); err != nil {
			return err
		}
		if err := deleteInstances(tx.Bucket(bInstances), id); err != nil {
			return err
		}
		if err := deleteAnnotations(tx, id); err != nil {
			return err
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if len(name) > 4 && string(name[:4]) == "vec:" {
				return b.Delete(k)
			}
			return nil
		})
	})
}

// Setting returns a stored setting ("" when unset).
func (c *Catalog) Setting(key string) (string, error) {
	var v string
	err := c.view(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bSettings).Get([]byte(key)))
		return nil
	})
	return v, err
}

// SetSetting stores a setting.
func (c *Catalog) SetSetting(key, value string) error {
	return c.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bSettings).Put([]byte(key), []byte(value))
	})
}

func encodeVec(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeItem decodes the record stored under id: one that does not
// decode, or names another item, is damage.
func decodeItem(id string, rec []byte, it *Item) error {
	if json.Unmarshal(rec, it) != nil || it.ID != id {
		return fmt.Errorf("%w: an item record does not read back", ErrDamaged)
	}
	return nil
}

// decodeVector decodes a stored embedding; one cut short is damage.
func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%w: an embedding does not read back", ErrDamaged)
	}
	return decodeVec(b), nil
}

func decodeVec(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// deleteInstances drops the instance entries that point to item id.
func deleteInstances(b *bolt.Bucket, id string) error {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if string(v) == id {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return err
}
