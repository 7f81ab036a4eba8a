package library

import (
	"context"
	"fmt"

	"github.com/m3ret/viewer/library/media"
)

// Vector returns the stored embedding of an item in the library's embedding
// space (for evaluation: `m3ret eval` ranks labelled items by it).
func (l *Library) Vector(id string) ([]float32, error) {
	return l.cat.Vector(l.emb.ModelID(), id)
}

// Embed embeds samples that are not stored (perturbed copies of items, for
// `m3ret eval --perturb`) into the library's embedding space, without
// searching or storing anything.
func (l *Library) Embed(ctx context.Context, samples []media.Sample) ([][]float32, error) {
	for i := range samples {
		if err := samples[i].Validate(); err != nil {
			return nil, fmt.Errorf("embed sample %d: %w", i, err)
		}
	}
	vecs, err := l.emb.Embed(ctx, samples)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if len(vecs) != len(samples) {
		return nil, fmt.Errorf("embed: %d vectors for %d samples", len(vecs), len(samples))
	}
	return vecs, nil
}
