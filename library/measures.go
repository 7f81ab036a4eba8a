package library

import (
	"context"
	"fmt"

	"github.com/m3ret/viewer/library/measure"
)

// measureKind is the annotation kind of measurements: one JSON list
// (measure.Marshal) per item id.
const measureKind = "measure"

// Measurements returns the measurements kept for an item (none is an
// empty list). They live in the catalog, never in the source file.
func (l *Library) Measurements(id string) ([]measure.Measurement, error) {
	doc, err := l.cat.Annotation(measureKind, id)
	if err != nil {
		return nil, fmt.Errorf("measurements of %s: %w", id, err)
	}
	ms, err := measure.Unmarshal(doc)
	if err != nil {
		return nil, fmt.Errorf("measurements of %s: %w", id, err)
	}
	return ms, nil
}

// SetMeasurements replaces the measurements kept for an item; an empty
// list deletes them. The item must be in the library. Like every change it
// takes the library for itself for the moment it writes (ErrReadOnly when
// opened to read).
func (l *Library) SetMeasurements(ctx context.Context, id string, ms []measure.Measurement) error {
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("measurement %d of %s: %w", i+1, id, err)
		}
	}
	var doc []byte
	if len(ms) > 0 {
		var err error
		if doc, err = measure.Marshal(ms); err != nil {
			return fmt.Errorf("measurements of %s: %w", id, err)
		}
	}
	err := l.writing(ctx, func() error {
		if _, err := l.cat.Get(id); err != nil {
			return err
		}
		return l.cat.SetAnnotation(measureKind, id, doc)
	})
	if err != nil {
		return fmt.Errorf("save measurements of %s: %w", id, err)
	}
	return nil
}
