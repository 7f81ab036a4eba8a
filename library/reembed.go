package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// ErrModelChanged is wrapped when a search made with one model is carried
// on after the library switched to another (see Reembed).
var ErrModelChanged = errors.New("the library changed model")

// inUse is the library's model: the embedder queries and imports use,
// replaced in one step when a re-embed switches the library to another.
type inUse struct{ p atomic.Pointer[embedderRef] }

type embedderRef struct{ Embedder }

func (u *inUse) set(emb Embedder) { u.p.Store(&embedderRef{emb}) }

// get is the embedder in use.
func (u *inUse) get() Embedder { return u.p.Load().Embedder }

// ModelID names the embedding space in use.
func (u *inUse) ModelID() string { return u.get().ModelID() }

// Embed embeds with the model in use.
func (u *inUse) Embed(ctx context.Context, s []media.Sample) ([][]float32, error) {
	return u.get().Embed(ctx, s)
}

// BatchSize is the model's own batch size (0: none said).
func (u *inUse) BatchSize() int {
	if b, ok := u.get().(interface{ BatchSize() int }); ok {
		return b.BatchSize()
	}
	return 0
}

// stagedVectors is the new model's vector index, saved before the switch
// in the scratch folder (which a writer's open clears: a re-embed killed
// before its switch leaves nothing behind).
const stagedVectors = "vectors-staged.hnsw"

// Reembed moves the library to emb's model: every item is embedded again
// (its source read again) into a staging space beside the one in use, and
// a new vector index is built from it, while the library answers queries
// with its model and index as before. Once that is complete, the library
// switches at once: the model the catalog records (one transaction, the
// commit point), the vector index file, and in memory the embedder and
// the index queries use. Cancelled, failed or killed before the switch,
// the library stays on its model, indexes untouched; the vectors embedded
// so far are kept aside, so a later Reembed with the same model goes on
// where this one stopped (items already embedded under emb's model are
// skipped; switching back to an earlier model costs nothing). Items whose
// source is gone or changed are listed as failures; they stay in the
// catalog without a vector in the new space. The caller owns emb, and the
// old embedder once this returns without error.
func (l *Library) Reembed(ctx context.Context, emb Embedder, progress func(done, total int)) (*Report, error) {
	ctx = l.scratch(ctx)
	l.importMu.Lock()
	defer l.importMu.Unlock()
	rep := &Report{Failed: []Failure{}, Items: []Item{}}
	err := l.writing(ctx, func() error {
		if err := l.stage(ctx, emb, rep, progress); err != nil {
			return err
		}
		return l.switchTo(emb)
	})
	return rep, err
}

// stage embeds with emb every item that has no vector under its model yet,
// storing the vectors aside (the indexes in use do not change).
func (l *Library) stage(ctx context.Context, emb Embedder, rep *Report, progress func(done, total int)) error {
	items, err := l.cat.Items()
	if err != nil {
		return err
	}
	model := emb.ModelID()
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
	return l.pipeline(ctx, unitsOf(units), rep, l.stageWriter(emb, want, rep), done)
}

// stageWriter admits sources that still hold the item they were imported
// as, and stores their vectors under emb's model, aside.
func (l *Library) stageWriter(emb Embedder, want map[string]string, rep *Report) writer {
	return writer{
		emb: emb,
		admit: func(d *decoded) error {
			if id := want[d.path]; id != d.item.ID {
				return fmt.Errorf("source changed since import (item %s)", id)
			}
			return nil
		},
		store: func(batch []decoded, vecs [][]float32) error {
			entries := make([]catalog.Entry, len(batch))
			for i, d := range batch {
				entries[i] = catalog.Entry{Item: d.item, Model: emb.ModelID(), Vector: vecs[i]}
			}
			if err := l.cat.PutVectorsAside(entries); err != nil {
				if full := diskFull(err); full != nil {
					return full
				}
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

// switchTo makes emb's model the library's: its vector index is built and
// saved aside first, then the catalog records the model (the commit
// point), the saved index takes the place of the old one, and queries
// move to emb and the new index together. A kill after the commit but
// before the index file moved leaves an index tagged with the old model:
// the next open rebuilds it from the catalog.
func (l *Library) switchTo(emb Embedder) error {
	g := newVectors()
	if err := l.cat.EachVector(emb.ModelID(), g.Add); err != nil {
		return fmt.Errorf("build the new vector index: %w", err)
	}
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	staged := filepath.Join(l.dir, scratchFolder, stagedVectors)
	if err := os.MkdirAll(filepath.Dir(staged), 0o700); err != nil {
		return fmt.Errorf("save the new vector index: %w", err)
	}
	tag := emb.ModelID() + "#" + strconv.FormatUint(gen, 10)
	if err := g.Save(staged, tag, index.StringKeys); err != nil {
		if full := diskFull(err); full != nil {
			return full
		}
		return fmt.Errorf("save the new vector index: %w", err)
	}
	if err := l.cat.SetSetting(settingModel, emb.ModelID()); err != nil {
		os.Remove(staged)
		return fmt.Errorf("record the new model: %w", err)
	}
	moved := os.Rename(staged, filepath.Join(l.dir, vectorsFile))
	l.spaceMu.Lock()
	l.emb.set(emb)
	l.setVectors(g)
	l.dirty = moved != nil // saved again at the end of the change, else at the next open
	l.spaceMu.Unlock()
	if moved != nil {
		l.note(fmt.Sprintf("the new vector index could not replace the old one (%v); it is saved again later", moved))
	}
	return nil
}
