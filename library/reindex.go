package library

import (
	"context"
	"fmt"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/ingest"
)

// OpenForReindex opens a library whatever model built it, for Reindex only:
// searching it before Reindex has finished would mix embedding spaces.
func OpenForReindex(dir string, emb Embedder) (*Library, error) {
	return OpenForReindexWith(context.Background(), dir, emb, OpenOptions{})
}

// Reindex embeds every item with the library's embedder (reading each
// source file again), then makes that model the library's and rebuilds both
// indexes from the catalog. Items already embedded under this model are
// skipped, so switching back to an earlier model costs nothing. Items whose
// source is gone or has changed are listed as failures and stay in the
// catalog without a vector in the new space. A cancelled reindex leaves the
// library on its old model.
func (l *Library) Reindex(ctx context.Context, progress func(done, total int)) (*Report, error) {
	ctx = l.scratch(ctx)
	l.importMu.Lock()
	defer l.importMu.Unlock()
	rep := &Report{Failed: []Failure{}, Items: []Item{}}
	items, err := l.cat.Items()
	if err != nil {
		return rep, err
	}
	model := l.emb.ModelID()
	want := map[string]string{} // first source path -> item id
	var units []ingest.Unit
	for _, it := range items {
		if _, err := l.cat.Vector(model, it.ID); err == nil {
			rep.Skipped++
			continue
		}
		want[it.Path] = it.ID
		us, problems := ingest.Plan(ctx, it.Sources(), nil, nil)
		for _, p := range problems {
			rep.Failed = append(rep.Failed, Failure{Path: p.Path, Error: p.Err.Error()})
		}
		units = append(units, us...)
	}
	total := 0
	for _, u := range units {
		total += len(u.Paths)
	}
	var done func(int)
	if progress != nil {
		progress(0, total)
		done = func(n int) { progress(n, total) }
	}
	if err := l.pipeline(ctx, unitsOf(units), rep, l.reindexWriter(want, rep), done); err != nil {
		return rep, err
	}
	if err := l.cat.SetSetting(settingModel, model); err != nil {
		return rep, err
	}
	return rep, l.rebuild()
}

// reindexWriter admits sources that still hold the item they were imported
// as, and stores only their new vectors.
func (l *Library) reindexWriter(want map[string]string, rep *Report) writer {
	return writer{
		admit: func(d *decoded) error {
			if id := want[d.path]; id != d.item.ID {
				return fmt.Errorf("source changed since import (item %s)", id)
			}
			return nil
		},
		store: func(batch []decoded, vecs [][]float32) error {
			entries := make([]catalog.Entry, len(batch))
			for i, d := range batch {
				entries[i] = catalog.Entry{Item: d.item, Model: l.emb.ModelID(), Vector: vecs[i]}
			}
			if err := l.cat.PutVectors(entries); err != nil {
				return fmt.Errorf("store vectors: %w", err)
			}
			for _, d := range batch {
				rep.Items = append(rep.Items, d.item)
			}
			rep.Imported += len(batch)
			return nil
		},
	}
}

// rebuild refills the vector index and the metadata index from the catalog.
func (l *Library) rebuild() error {
	if err := l.rebuildVectors(); err != nil {
		return err
	}
	return l.refillMeta()
}
