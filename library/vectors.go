package library

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/m3ret/viewer/library/index"
)

const vectorsFile = "vectors.hnsw"

// newVectors is the one place that chooses the vector index.
func newVectors() *index.HNSW { return index.NewHNSW(0, index.DefaultHNSW) }

// indexTag names the embedding space and catalog generation a saved graph
// belongs to.
func (l *Library) indexTag() (string, error) {
	g, err := l.cat.Generation()
	return l.emb.ModelID() + "#" + strconv.FormatUint(g, 10), err
}

// loadVectors opens the saved graph if it matches the catalog, else
// rebuilds it from the catalog (and says why in Notes).
func (l *Library) loadVectors() error {
	path := filepath.Join(l.dir, vectorsFile)
	want, terr := l.indexTag()
	if terr != nil {
		return terr
	}
	g, tag, err := index.LoadHNSW(path)
	switch {
	case err == nil && tag == want:
		l.vecs = g
		return nil
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

// rebuildVectors refills the graph from the catalog and saves it.
func (l *Library) rebuildVectors() error {
	g := newVectors()
	if err := l.cat.EachVector(l.emb.ModelID(), g.Add); err != nil {
		return err
	}
	l.vecs = g
	return l.saveVectors()
}

// saveVectors writes the graph (tagged with the catalog generation).
func (l *Library) saveVectors() error {
	g, ok := l.vecs.(*index.HNSW)
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

func (l *Library) note(s string) { l.notes = append(l.notes, s) }

// Notes returns what Open had to repair, in plain words (empty when
// nothing).
func (l *Library) Notes() []string { return l.notes }

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
	if len(ids) <= exactLimit(l.vecs.Len()) {
		return l.vecs.Score(vec, ids, k)
	}
	hits, err := l.vecs.Search(vec, k, func(id string) bool { return match[id] && id != exclude })
	if err != nil || len(hits) >= min(k, len(ids)) {
		return hits, err
	}
	return l.vecs.Score(vec, ids, k)
}
