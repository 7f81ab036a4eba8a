package library

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/measure"
)

// annotatedLibrary builds a small library: n items, each with a label, a
// note and a measurement, and a note on one pair; the last write is a
// label (on ids[0]: "last").
func annotatedLibrary(t *testing.T, n int) (dir string, ids []string) {
	t.Helper()
	src := t.TempDir()
	for i := range n {
		writePNG(t, filepath.Join(src, fmt.Sprintf("%02d.png", i)), uint8(8+i*(240/n)))
	}
	dir = filepath.Join(t.TempDir(), "lib")
	ctx := context.Background()
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	rep, err := l.Import(ctx, []string{src}, nil)
	if err != nil || rep.Imported != n {
		t.Fatalf("%+v %v", rep, err)
	}
	length := []measure.Measurement{{Kind: measure.Length, Points: []measure.Point{{X: 1, Y: 2}, {X: 9, Y: 2}}}}
	for i, it := range rep.Items {
		ids = append(ids, it.ID)
		err = errors.Join(err, l.SetLabel(ctx, it.ID, fmt.Sprintf("class%d", i%3)), l.SetNote(ctx, it.ID, fmt.Sprintf("finding %d", i)),
			l.SetMeasurements(ctx, it.ID, length))
	}
	err = errors.Join(err, l.SetPairNote(ctx, Note{Query: ids[0], Result: ids[1], Verdict: VerdictSimilar, Text: "alike"}),
		l.SetLabel(ctx, ids[0], "last"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, ids
}

// holding counts what a library holds: items, and annotations (labels,
// notes on items and on pairs, items with measurements).
type holding struct{ items, annotations int }

func (h holding) String() string {
	return fmt.Sprintf("%d items, %d annotations", h.items, h.annotations)
}

// probe runs what the commands do on the library in dir (open, info,
// list, query, notes and labels, label, a reader's open), each under
// recover: it returns what the library held, the steps that failed
// (with ErrNotFound apart: an item lost is not found) and those that
// panicked.
func probe(dir string, ids []string) (h holding, failed, notFound, panics []string) {
	step := func(name string, fn func() error) {
		defer func() {
			if p := recover(); p != nil {
				panics = append(panics, fmt.Sprintf("%s: %v", name, p))
			}
		}()
		switch err := fn(); {
		case errors.Is(err, ErrNotFound):
			notFound = append(notFound, name)
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
		}
	}
	ctx := context.Background()
	var l *Library
	step("open", func() (err error) { l, err = Open(dir, &fakeEmbedder{id: "fake@1"}); return err })
	if l != nil {
		step("info", func() error { _, err := l.Stats(); return err })
		step("list", func() error { items, err := l.Items(); h.items = len(items); return err })
		step("query", func() error { _, err := l.QueryItem(ctx, ids[len(ids)-1], 3, ""); return err })
		step("annotations", func() (err error) { h.annotations, err = annotationsOf(l, ids); return err })
		step("label", func() error { return l.SetLabel(ctx, ids[1], "relabelled") })
		step("close", l.Close)
	}
	step("read", func() error {
		r, err := OpenWith(ctx, dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Read})
		if err != nil {
			return err
		}
		_, err = r.Items()
		return errors.Join(err, r.Close())
	})
	return h, failed, notFound, panics
}

func annotationsOf(l *Library, ids []string) (int, error) {
	labels, err := l.Labels()
	if err != nil {
		return 0, err
	}
	notes, err := l.AllNotes()
	n := len(labels) + len(notes)
	for _, id := range ids {
		ms, merr := l.Measurements(id)
		if len(ms) > 0 {
			n++
		}
		err = errors.Join(err, merr)
	}
	return n, err
}

// TestDamagedCatalogNeverPanics: one page of the
// catalog zeroed, each page in turn, and random byte ranges overwritten:
// no command panics (they fail with ErrDamaged, or work around the page);
// repair never fails and the library opens after it; a library that
// worked before repair holds at least as much after it.
func TestDamagedCatalogNeverPanics(t *testing.T) {
	dir, ids := annotatedLibrary(t, 12)
	pristine := filepath.Join(t.TempDir(), "pristine")
	copyTree(t, dir, pristine)
	orig, err := os.ReadFile(filepath.Join(dir, catalogFile))
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	t.Logf("catalog: %d pages", len(orig)/page)
	damages := map[string]func([]byte){}
	for p := range len(orig) / page {
		damages[fmt.Sprintf("page %d zeroed", p)] = func(b []byte) { clear(b[p*page : (p+1)*page]) }
	}
	rng := rand.New(rand.NewPCG(29, 2))
	for i := range 16 {
		at, n := rng.IntN(len(orig)), 1+rng.IntN(600)
		if i%2 == 0 { // a page's header and element table
			at = rng.IntN(len(orig)/page)*page + rng.IntN(64)
		}
		junk := make([]byte, n)
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		damages[fmt.Sprintf("random range %d: %d bytes at %d", i, n, at)] = func(b []byte) { copy(b[at:], junk) }
	}
	for name, damage := range damages {
		os.RemoveAll(dir)
		copyTree(t, pristine, dir)
		b := append([]byte(nil), orig...)
		damage(b)
		if err := os.WriteFile(filepath.Join(dir, catalogFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		checkDamage(t, name, dir, ids)
	}
}

// checkDamage probes a damaged library, repairs it, and probes it again.
func checkDamage(t *testing.T, name, dir string, ids []string) {
	t.Helper()
	before, failed, notFound, panics := probe(dir, ids)
	for _, p := range panics {
		t.Errorf("%s: %s panicked", name, p)
	}
	worked := len(failed)+len(notFound)+len(panics) == 0
	var rep *RepairReport
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("repair panicked: %v", p)
			}
		}()
		rep, err = Repair(dir)
	}()
	if err != nil {
		t.Errorf("%s: repair: %v", name, err)
		return
	}
	after, refailed, _, panics := probe(dir, ids)
	for _, p := range panics {
		t.Errorf("%s: after repair, %s panicked", name, p)
	}
	if len(refailed) > 0 {
		t.Errorf("%s: after repair, %v (repair %+v)", name, refailed, rep)
	}
	t.Logf("%s: before repair %s, failed %d, not found %d; repair: %d salvaged, %d lost, %d annotations, %d lost; after %s",
		name, before, len(failed), len(notFound), rep.Salvaged, len(rep.Lost), rep.Annotations, len(rep.LostAnnotations), after)
	if worked && (after.items < before.items || after.annotations < before.annotations) {
		t.Errorf("%s: repair made it worse: %s before, %s after (repair %+v)", name, before, after, rep)
	}
	if after.items < len(ids) && len(rep.Lost) != len(ids)-after.items {
		t.Errorf("%s: %d items of %d after repair, but it lists %d lost", name, after.items, len(ids), len(rep.Lost))
	}
}

// copyTree copies a library folder (files and folders) to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRepairKeepsLastChange: with the newest meta page
// lost, bbolt opened the state of the transaction before, and repair
// reported nothing lost while the label written last was gone; now the
// open says the catalog is damaged and repair brings back the newest
// state, that label with it, keeping the damaged file beside.
func TestRepairKeepsLastChange(t *testing.T) {
	dir, ids := annotatedLibrary(t, 4)
	path := filepath.Join(dir, catalogFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	newest := 0
	if binary.LittleEndian.Uint64(b[4096+64:]) > binary.LittleEndian.Uint64(b[64:]) {
		newest = 1
	}
	clear(b[newest*4096 : (newest+1)*4096])
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, &fakeEmbedder{id: "fake@1"}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("open with the newest header page lost: %v", err)
	}
	rep, err := Repair(dir)
	if err != nil || rep.Damaged == "" || len(rep.Lost)+len(rep.LostAnnotations) > 0 {
		t.Fatalf("repair %+v: %v", rep, err)
	}
	if kept, err := os.ReadFile(rep.Damaged); err != nil || !bytes.Equal(kept, b) {
		t.Fatalf("the damaged catalog was not kept as it was: %v", err)
	}
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if lb, err := l.Label(ids[0]); lb != "last" || err != nil {
		t.Fatalf("the label written last: %q %v", lb, err)
	}
	if got := match(t, l, "label:last"); !got[ids[0]] {
		t.Fatal("the rebuilt metadata index lacks the label written last")
	}
}

// TestRepairFailureChangesNothing: a repair that cannot
// write its new catalog fails, and leaves the folder as it was: the
// damaged catalog in place, both indexes there (the old repair dropped
// them whatever came of the salvage).
func TestRepairFailureChangesNothing(t *testing.T) {
	dir, _ := annotatedLibrary(t, 3)
	path := filepath.Join(dir, catalogFile)
	b, _ := os.ReadFile(path)
	clear(b[0:4096])
	os.WriteFile(path, b, 0o600)
	if err := os.MkdirAll(filepath.Join(path+".repair", "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Repair(dir); err == nil {
		t.Fatal("repair wrote its catalog where it could not")
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, b) {
		t.Fatal("the damaged catalog changed")
	}
	for _, p := range []string{vectorsFile, "meta.bleve"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if m, _ := filepath.Glob(path + ".damaged-*"); len(m) > 0 {
		t.Fatalf("kept %v though nothing was swapped", m)
	}
}

// TestRepairListsOnlyAnnotationsLost: items that never had a label or a
// note are not listed as having lost one (the metadata index's "label:*"
// matched every item).
func TestRepairListsOnlyAnnotationsLost(t *testing.T) {
	dir, ids := annotatedLibrary(t, 4)
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	ctx := context.Background()
	if err := errors.Join(l.SetLabel(ctx, ids[1], ""), l.SetNote(ctx, ids[2], ""), l.Close()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, catalogFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clear(b[0:4096]) // one header page: everything is salvaged
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Repair(dir)
	if err != nil || len(rep.Lost) > 0 || len(rep.LostAnnotations) > 0 {
		t.Fatalf("repair lists as lost %v and %+v (%v)", rep.Lost, rep.LostAnnotations, err)
	}
}
