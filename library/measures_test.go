package library

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/measure"
)

// TestMeasurementsKeptPerItem stores measurements for an item, reads them
// back after reopening (shared, as the window opens it, and read-only),
// and deletes them with an empty list; the source file is not touched.
func TestMeasurementsKeptPerItem(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.png")
	writePNG(t, src, 90)
	dir := filepath.Join(t.TempDir(), "lib")
	ctx := context.Background()
	l, err := OpenWith(ctx, dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Shared})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := l.Import(ctx, []string{src}, nil)
	if err != nil || len(rep.Items) != 1 {
		t.Fatalf("import %+v: %v", rep, err)
	}
	id := rep.Items[0].ID
	if ms, err := l.Measurements(id); err != nil || len(ms) != 0 {
		t.Fatalf("new item has measurements %+v, %v", ms, err)
	}
	want := []measure.Measurement{
		{Kind: measure.Length, Points: []measure.Point{{X: 1, Y: 2}, {X: 10, Y: 2}}, Label: "a"},
		{Kind: measure.Ellipse, Axis: measure.Native, Points: []measure.Point{{X: 3, Y: 3}, {X: 9, Y: 8}}},
	}
	if err := l.SetMeasurements(ctx, id, want); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMeasurements(ctx, "no-such-item", want); !errors.Is(err, ErrNotFound) {
		t.Fatalf("measurements of a missing item: %v", err)
	}
	bad := []measure.Measurement{{Kind: measure.Angle, Points: []measure.Point{{}}}}
	if err := l.SetMeasurements(ctx, id, bad); !errors.Is(err, measure.ErrInvalid) {
		t.Fatalf("invalid measurement stored: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenWith(ctx, dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Read})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ro.Measurements(id)
	if err != nil || len(got) != 2 || got[0].Label != "a" || got[1].Kind != measure.Ellipse || got[1].Points[1].Y != 8 {
		t.Fatalf("read back %+v, %v", got, err)
	}
	if err := ro.SetMeasurements(ctx, id, nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only library changed: %v", err)
	}
	ro.Close()
	rw := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if err := rw.SetMeasurements(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if ms, err := rw.Measurements(id); err != nil || len(ms) != 0 {
		t.Fatalf("deleted measurements still there: %+v, %v", ms, err)
	}
}
