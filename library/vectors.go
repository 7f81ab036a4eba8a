package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/m3ret/viewer/library/index"
)

const vectorsFile = "vectors.hnsw"

// newVectors is the one place that chooses the vector index.
func newVectors() *index.HNSW { return newVectorsFor(0) }

// int8Above is the library size from which its graph keeps int8 vectors in
// memory and re-ranks on float32 ones mapped from disk (see
// index.HNSWConfig.Quantize): at a million 256-d items the float32 graph
// holds about 1.2 GB, the int8 one about 0.45 GB (bench index --int8).
const int8Above = 1_000_000

// newVectorsFor returns an empty graph for a library of n vectors:
// float32 or int8 as vectorStorage chooses.
func newVectorsFor(n int) *index.HNSW {
	cfg := index.DefaultHNSW
	cfg.Quantize = quantizeFor(n)
	return index.NewHNSW(0, cfg)
}

// quantizeFor tells whether a library of n vectors keeps int8 vectors:
// $M3RET_VECTORS says int8 or float32, else (auto) from int8Above items.
func quantizeFor(n int) bool {
	switch os.Getenv("M3RET_VECTORS") {
	case "int8":
		return true
	case "float32":
		return false
	}
	return n >= int8Above
}

// indexTag names the embedding space and catalog generation a saved graph
// belongs to.
func (l *Library) indexTag() (string, error) {
	g, err := l.cat.Generation()
	return l.emb.ModelID() + "#" + strconv.FormatUint(g, 10), err
}

// vectors is the vector index in use (a Shared library reloads it when
// another process changed the library).
func (l *Library) vectors() index.Vectors {
	l.vecMu.RLock()
	defer l.vecMu.RUnlock()
	return l.vecs
}

func (l *Library) setVectors(v index.Vectors) {
	l.vecMu.Lock()
	defer l.vecMu.Unlock()
	l.vecs = v
}

// loadVectors opens the saved graph if it matches the catalog, else
// rebuilds it from the catalog (and says why in Notes); a library open
// read-only rebuilds it in memory only.
func (l *Library) loadVectors() error {
	path := filepath.Join(l.dir, vectorsFile)
	want, terr := l.indexTag()
	if terr != nil {
		return terr
	}
	g, tag, err := index.LoadHNSW(path)
	switch {
	case err == nil && tag == want && g.Quantized() == quantizeFor(g.Len()):
		l.setVectors(g)
		return nil
	case err == nil && tag == want:
		l.note(fmt.Sprintf("the vector index now keeps %s vectors in memory (%d items); rebuilt it", storageName(!g.Quantized()), g.Len()))
	case err == nil:
		l.note("the vector index was older than the catalog; rebuilt it from the catalog")
	case errors.Is(err, fs.ErrNotExist):
		if gen, _ := l.cat.Generation(); gen > 0 { // read a moment ago
			l.note("the vector index was missing; rebuilt it from the catalog")
		}
	default:
		l.note(fmt.Sprintf("the vector index could not be read (%v); rebuilt it from the catalog", err))
	}
	return l.rebuildVectors()
}

func storageName(int8 bool) string {
	if int8 {
		return "int8"
	}
	return "float32"
}

// rebuildVectors refills the graph from the catalog, inserting from every
// CPU, and saves it (in memory only when the catalog is open read-only).
func (l *Library) rebuildVectors() error {
	var ids []string
	var vecs [][]float32
	if err := l.cat.EachVector(l.emb.ModelID(), func(id string, v []float32) error {
		ids, vecs = append(ids, id), append(vecs, v)
		return nil
	}); err != nil {
		return err
	}
	g := newVectorsFor(len(ids))
	if err := g.AddBatch(context.Background(), ids, vecs, 0, nil); err != nil {
		return err
	}
	l.setVectors(g)
	if l.cat.ReadOnly() { // a reader writes nothing
		if g.Len() > 0 {
			l.note("the vector index was rebuilt in memory only; the next import saves it")
		}
		return nil
	}
	return l.saveVectors()
}

// saveVectors writes the graph (tagged with the catalog generation).
func (l *Library) saveVectors() error {
	g, ok := l.vectors().(*index.HNSW)
	if !ok {
		return nil
	}
	tag, err := l.indexTag()
	if err != nil {
		return fmt.Errorf("save vector index: %w", err)
	}
	if err := g.Save(filepath.Join(l.dir, vectorsFile), tag, index.StringKeys); err != nil {
		return fmt.Errorf("save vector index: %w", err)
	}
	return nil
}

func (l *Library) note(s string) {
	l.notesMu.Lock()
	defer l.notesMu.Unlock()
	l.notes = append(l.notes, s)
}

// Notes returns what Open had to repair, in plain words (empty when
// nothing).
func (l *Library) Notes() []string {
	l.notesMu.Lock()
	defer l.notesMu.Unlock()
	return append([]string(nil), l.notes...)
}

// exactLimit is the size below which a filtered search ranks the matching
// items exactly instead of walking the graph.
func exactLimit(n int) int { return max(5000, n/50) }

// hybrid ranks the items passing a bleve filter: exactly when few pass,
// else by the graph with the filter applied during the walk, falling back
// to exact ranking if the walk finds fewer than k of them.
func (l *Library) hybrid(vec []float32, k int, match map[string]bool, exclude string) ([]index.Hit, error) {
	ids := make([]string, 0, len(match))
	for id := range match {
		if id != exclude {
			ids = append(ids, id)
		}
	}
	vecs := l.vectors()
	if len(ids) <= exactLimit(vecs.Len()) {
		return vecs.Score(vec, ids, k)
	}
	hits, err := vecs.Search(vec, k, func(id string) bool { return match[id] && id != exclude })
	if err != nil || len(hits) >= min(k, len(ids)) {
		return hits, err
	}
	return vecs.Score(vec, ids, k)
}
