package library

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/catalog"
)

// TestNotesAndLabels (issue 21, notes and labels): an item's note, a note
// with a verdict on a query–result pair and a label are kept in the
// catalog, found from the filter box (notes:, label:, or plain words),
// kept across a reopen, listed, and gone with their item.
func TestNotesAndLabels(t *testing.T) {
	src := t.TempDir()
	for i := range 4 {
		writePNG(t, filepath.Join(src, fmt.Sprintf("%d.png", i)), uint8(20+50*i))
	}
	dir := filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	ctx := context.Background()
	rep, err := l.Import(ctx, []string{src}, nil)
	if err != nil || rep.Imported != 4 {
		t.Fatalf("%+v %v", rep, err)
	}
	q, err := l.QueryFile(ctx, filepath.Join(src, "0.png"), 3, "")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, it := range rep.Items {
		ids[filepath.Base(it.Path)] = it.ID
	}
	key := QueryKey(q)
	if key != ids["0.png"] { // the query file is in the library: its key is its id
		t.Fatalf("query key %q, item id %q", key, ids["0.png"])
	}
	a, b, c := ids["1.png"], ids["2.png"], ids["3.png"]
	steps := []error{
		l.SetNote(ctx, a, "Spiculated margin, calcified core"),
		l.SetPairNote(ctx, Note{Query: key, Result: b, Verdict: VerdictNotSimilar, Text: "different lobe"}),
		l.SetPairNote(ctx, Note{Query: key, Result: c, Verdict: VerdictSimilar}),
		l.SetLabel(ctx, a, "adenocarcinoma"),
		l.SetLabel(ctx, c, "adenocarcinoma"),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := l.SetPairNote(ctx, Note{Query: key, Result: b, Verdict: "maybe"}); !errors.Is(err, ErrVerdict) {
		t.Fatalf("a verdict of maybe: %v", err)
	}
	if err := l.SetNote(ctx, "f0000000000000000", "x"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a note on no item: %v", err)
	}
	checkNoteSearch(t, l, a, b, c)
	l.Close()
	l = openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	checkNoteSearch(t, l, a, b, c)
	if pn, err := l.PairNotes(key); err != nil || len(pn) != 2 || pn[b].Text != "different lobe" || pn[c].Verdict != VerdictSimilar {
		t.Fatalf("pair notes after reopen: %+v %v", pn, err)
	}
	if all, err := l.AllNotes(); err != nil || len(all) != 3 {
		t.Fatalf("all notes: %+v %v", all, err)
	}
	if err := l.SetNote(ctx, a, ""); err != nil { // an empty note removes it
		t.Fatal(err)
	}
	if got := match(t, l, "calcified"); len(got) != 0 {
		t.Fatalf("a removed note still found: %v", got)
	}
	if err := l.Remove(c); err != nil {
		t.Fatal(err)
	}
	if labels, _ := l.Labels(); len(labels) != 1 || labels[a] != "adenocarcinoma" {
		t.Fatalf("labels after removing an item: %v", labels)
	}
	if pn, _ := l.PairNotes(key); len(pn) != 1 {
		t.Fatalf("pair notes after removing a result: %v", pn)
	}
}

func checkNoteSearch(t *testing.T, l *Library, a, b, c string) {
	t.Helper()
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"notes:calcified", []string{a}},
		{"calcified", []string{a}},               // plain words reach notes too
		{`notes:"different lobe"`, []string{b}},  // a pair note is found on its result
		{`verdict:"not similar"`, []string{b}},   // its verdict
		{"label:adenocarcinoma", []string{a, c}}, // labels are exact
		{"+label:adenocarcinoma +verdict:similar", []string{c}},
	} {
		got := match(t, l, tc.filter)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Fatalf("%s: got %v, want %v", tc.filter, got, tc.want)
			}
		}
	}
}

func match(t *testing.T, l *Library, filter string) map[string]bool {
	t.Helper()
	got, err := l.Match(filter)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	return got
}

// TestRepairKeepsNotes: the salvage Repair runs on a damaged catalog
// carries notes and labels into the new catalog, and the rebuilt metadata
// index finds items by them again.
func TestRepairKeepsNotes(t *testing.T) {
	src := t.TempDir()
	for i := range 3 {
		writePNG(t, filepath.Join(src, fmt.Sprintf("%d.png", i)), uint8(30+60*i))
	}
	dir := filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	ctx := context.Background()
	rep, err := l.Import(ctx, []string{src}, nil)
	if err != nil || rep.Imported != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	a, b := rep.Items[0].ID, rep.Items[1].ID
	if err := errors.Join(l.SetNote(ctx, a, "haemorrhage"), l.SetLabel(ctx, b, "stroke"),
		l.SetPairNote(ctx, Note{Query: a, Result: b, Verdict: VerdictSimilar, Text: "same territory"})); err != nil {
		t.Fatal(err)
	}
	l.Close()
	var rr RepairReport
	if err := (&Library{dir: dir}).salvage(filepath.Join(dir, "catalog.db"), &rr); err != nil || rr.Salvaged != 3 || rr.Annotations != 3 {
		t.Fatalf("salvage: %+v %v", rr, err)
	}
	if err := dropIndexes(dir); err != nil {
		t.Fatal(err)
	}
	l = openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if n, err := l.Note(a); err != nil || n.Text != "haemorrhage" {
		t.Fatalf("note after salvage: %+v %v", n, err)
	}
	for filter, want := range map[string]string{"haemorrhage": a, "label:stroke": b, "territory": b} {
		if got := match(t, l, filter); len(got) != 1 || !got[want] {
			t.Fatalf("%s after salvage: %v", filter, got)
		}
	}
}

// TestNoteIndexedAfterCrash: a note the catalog committed but the metadata
// index never got (a process killed between the two writes) is found
// after the next open, which sees the index behind and rebuilds it.
func TestNoteIndexedAfterCrash(t *testing.T) {
	src := t.TempDir()
	writePNG(t, filepath.Join(src, "a.png"), 90)
	dir := filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	id := rep.Items[0].ID
	if _, err := l.cat.SetIndexedAnnotation(kindNote, id, []byte(`{"item":"`+id+`","text":"pneumothorax"}`)); err != nil {
		t.Fatal(err)
	}
	if got := match(t, l, "pneumothorax"); len(got) != 0 {
		t.Fatal("the index got the note without being told")
	}
	l.Close()
	l = openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if got := match(t, l, "pneumothorax"); len(got) != 1 || !got[id] {
		t.Fatalf("after reopening: %v (notes %v)", got, l.Notes())
	}
}
