package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/mapping"
)

// Doc is the metadata of one item as bleve indexes it. Keyword fields match
// exactly (modality:CT); description is analysed text; study_date is a date
// (study_date:>="2020-01-01").
type Doc struct {
	Kind        string  `json:"kind"`
	Modality    string  `json:"modality"`
	BodyPart    string  `json:"body_part"`
	StudyDate   string  `json:"study_date,omitempty"` // RFC 3339 date, or empty
	Description string  `json:"description"`
	PatientID   string  `json:"patient_id"`
	SeriesUID   string  `json:"series_uid"`
	Format      string  `json:"format"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	Frames      int     `json:"frames"`
	Volumes     int     `json:"volumes,omitempty"`
	SpacingX    float64 `json:"spacing_x,omitempty"` // mm
	SpacingY    float64 `json:"spacing_y,omitempty"`
	SpacingZ    float64 `json:"spacing_z,omitempty"`
	FrameTime   float64 `json:"frame_time_ms,omitempty"`
	Duration    float64 `json:"duration_s,omitempty"`
	// What users wrote: the item's note and the notes on pairs where it
	// was the result, those pairs' verdicts ("similar", "not similar"),
	// and its label.
	Notes    string   `json:"notes,omitempty"`
	Verdicts []string `json:"verdict,omitempty"`
	Label    string   `json:"label,omitempty"`
}

// mappingVersion names the field set of leanMapping; an index built with
// another is rebuilt from the catalog.
const mappingVersion = "3"

var keyMapping = []byte("m3ret-mapping")

// Meta is the bleve metadata index of a library. It is safe for
// concurrent use.
type Meta struct {
	mu  sync.RWMutex
	idx bleve.Index // nil while suspended (see Suspend)
}

// OpenMeta opens the bleve index in dir, creating it with the lean mapping
// when missing. A corrupt index is removed and created again. fresh reports
// that the index was created now and must be refilled from the catalog.
func OpenMeta(dir string) (m *Meta, fresh bool, err error) {
	m, fresh, err = openMeta(dir)
	if err == nil {
		if err = userOnly(dir); err != nil {
			m.Close()
			return nil, false, fmt.Errorf("protect metadata index: %w", err)
		}
	}
	return m, fresh, err
}

func openMeta(dir string) (*Meta, bool, error) {
	idx, err := bleve.Open(dir)
	if err == nil {
		if v, _ := idx.GetInternal(keyMapping); string(v) == mappingVersion {
			return &Meta{idx: idx}, false, nil
		}
		idx.Close()
		err = errors.New("older mapping")
	}
	if !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			return nil, false, fmt.Errorf("remove corrupt metadata index: %w", rmErr)
		}
	}
	idx, err = bleve.New(dir, leanMapping())
	if err != nil {
		return nil, false, fmt.Errorf("create metadata index: %w", err)
	}
	if err := idx.SetInternal(keyMapping, []byte(mappingVersion)); err != nil {
		idx.Close()
		return nil, false, fmt.Errorf("create metadata index: %w", err)
	}
	return &Meta{idx: idx}, true, nil
}

// userOnly makes what bleve created readable by the user alone: it writes
// index_meta.json through the umask (0644 or 0666), and metadata is
// patient data.
func userOnly(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		}
		return os.Chmod(path, mode)
	})
}

func leanMapping() mapping.IndexMapping {
	kw := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = keyword.Name
		f.Store, f.IncludeTermVectors, f.IncludeInAll = false, false, false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{"kind", "modality", "body_part", "patient_id", "series_uid", "format"} {
		doc.AddFieldMappingsAt(name, kw())
	}
	text := bleve.NewTextFieldMapping()
	text.Analyzer = standard.Name
	text.Store, text.IncludeTermVectors, text.IncludeInAll = false, false, true
	doc.AddFieldMappingsAt("description", text)
	for _, name := range []string{"label", "verdict"} { // quoted values ("not similar") need term vectors
		f := kw()
		f.IncludeTermVectors = true
		doc.AddFieldMappingsAt(name, f)
	}
	notes := bleve.NewTextFieldMapping() // phrases need term vectors
	notes.Analyzer = standard.Name
	notes.Store, notes.IncludeTermVectors, notes.IncludeInAll = false, true, true
	doc.AddFieldMappingsAt("notes", notes)
	for _, name := range []string{"width", "height", "frames", "volumes", "spacing_x", "spacing_y", "spacing_z", "frame_time_ms", "duration_s"} {
		num := bleve.NewNumericFieldMapping()
		num.Store, num.IncludeInAll = false, false
		doc.AddFieldMappingsAt(name, num)
	}
	date := bleve.NewDateTimeFieldMapping()
	date.Store, date.IncludeInAll = false, false
	doc.AddFieldMappingsAt("study_date", date)
	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = standard.Name
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m
}

// keyGeneration records the catalog generation the index is up to date
// with (see Generation).
var keyGeneration = []byte("m3ret-catalog-generation")

// Put indexes (or re-indexes) the metadata of several items in one batch,
// with the catalog generation they bring the index to.
func (m *Meta) Put(docs map[string]Doc, generation uint64) error {
	return m.put(docs, map[string]uint64{string(keyGeneration): generation})
}

// put indexes docs and records the generations in marks (internal key →
// value) in the same batch.
func (m *Meta) put(docs map[string]Doc, marks map[string]uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idx == nil {
		return ErrSuspended
	}
	b := m.idx.NewBatch()
	for id, d := range docs {
		if err := b.Index(id, d); err != nil {
			return fmt.Errorf("index metadata: %w", err)
		}
	}
	for k, v := range marks {
		b.SetInternal([]byte(k), binary.LittleEndian.AppendUint64(nil, v))
	}
	return m.idx.Batch(b)
}

// Delete removes an item's metadata, with the catalog generation that
// brings the index to.
func (m *Meta) Delete(id string, generation uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idx == nil {
		return ErrSuspended
	}
	b := m.idx.NewBatch()
	b.Delete(id)
	b.SetInternal(keyGeneration, binary.LittleEndian.AppendUint64(nil, generation))
	return m.idx.Batch(b)
}

// Generation is the catalog generation the index was last brought to, in
// the same batch as the documents; false when it never was (an index made
// before generations were recorded). An index behind the catalog (a
// process killed between the catalog's commit and the index's) is rebuilt
// by the library at open.
func (m *Meta) Generation() (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idx == nil {
		return 0, false
	}
	v, err := m.idx.GetInternal(keyGeneration)
	if err != nil || len(v) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(v), true
}

// Count is the number of documents.
func (m *Meta) Count() (uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idx == nil {
		return 0, ErrSuspended
	}
	return m.idx.DocCount()
}

// Match returns the set of ids matching a bleve query string
// ("modality:CT +body_part:CHEST", "description:flair").
func (m *Meta) Match(query string) (map[string]bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.idx == nil {
		return nil, ErrSuspended
	}
	q := bleve.NewQueryStringQuery(query)
	n, err := m.idx.DocCount()
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(q, int(n)+1, 0, false)
	res, err := m.idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", query, err)
	}
	out := make(map[string]bool, len(res.Hits))
	for _, h := range res.Hits {
		out[h.ID] = true
	}
	return out, nil
}
