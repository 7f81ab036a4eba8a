package library

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/racetest"
)

func TestVectorIndexSavedAndRebuilt(t *testing.T) {
	src := t.TempDir()
	for i := range 6 {
		writePNG(t, filepath.Join(src, string(rune('a'+i))+".png"), uint8(20+i*30))
	}
	dir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	l := openLib(t, dir, emb)
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	graph := filepath.Join(dir, vectorsFile)
	saved, err := os.ReadFile(graph)
	if err != nil {
		t.Fatalf("graph not saved: %v", err)
	}
	tests := []struct {
		name, note string
		prepare    func()
	}{
		{"saved graph used", "", func() {}},
		{"missing", "missing", func() { os.Remove(graph) }},
		{"corrupt", "could not be read", func() { os.WriteFile(graph, saved[:len(saved)/2], 0o600) }},
		{"stale", "older than the catalog", func() {
			os.WriteFile(graph, saved, 0o600)
			l := openLib(t, dir, emb)
			if err := l.Remove(l.mustFirstID(t)); err != nil {
				t.Fatal(err)
			}
			l.Close()
			os.WriteFile(graph, saved, 0o600) // as if the process died before saving
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.prepare()
			l := openLib(t, dir, emb)
			notes := strings.Join(l.Notes(), "; ")
			if (tc.note == "") != (notes == "") || !strings.Contains(notes, tc.note) {
				t.Fatalf("notes %q, want %q", notes, tc.note)
			}
			items, _ := l.Items()
			if l.vecs.Len() != len(items) {
				t.Fatalf("%d vectors for %d items", l.vecs.Len(), len(items))
			}
			q, err := l.QueryFile(context.Background(), filepath.Join(src, "c.png"), 1, "")
			if err != nil || filepath.Base(q.Results[0].Item.Path) != "c.png" {
				t.Fatalf("%+v %v", q, err)
			}
			l.Close()
		})
	}
}

// TestEmptyLibraryReopensQuietly: a library with no items yet saves an
// empty graph, and opening it again must not call that graph corrupt (it
// once did, on every command run on a new library).
func TestEmptyLibraryReopensQuietly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	for range 2 {
		l := openLib(t, dir, emb)
		if notes := l.Notes(); len(notes) != 0 {
			t.Fatalf("notes %q", notes)
		}
		l.Close()
	}
}

func (l *Library) mustFirstID(t *testing.T) string {
	items, err := l.Items()
	if err != nil || len(items) == 0 {
		t.Fatal("no items")
	}
	return items[0].ID
}

// TestHybridFilter fills the indexes directly with 10,000 synthetic vectors
// and metadata, then checks filtered searches against an exact oracle: a
// filter passing 1% of items returns exactly their k nearest; one passing
// 60% walks the graph and still returns k of them, nearly all the true ones.
func TestHybridFilter(t *testing.T) {
	racetest.Heavy(t)
	if testing.Short() {
		t.Skip("indexes 10,000 documents")
	}
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1"})
	r := rand.New(rand.NewPCG(3, 4))
	const n, dim = 10000, 32
	docs := map[string]index.Doc{}
	vecs := map[string][]float32{}
	for i := range n {
		id := fmt.Sprintf("i%05d", i)
		v := make([]float32, dim)
		var s float64
		for d := range v {
			v[d] = float32(r.NormFloat64())
			s += float64(v[d] * v[d])
		}
		for d := range v {
			v[d] /= float32(math.Sqrt(s))
		}
		vecs[id] = v
		_ = l.vecs.Add(id, v)
		mod := "MR"
		switch {
		case i%100 == 0:
			mod = "XA" // 1%
		case i%10 < 6:
			mod = "CT" // ~60%: above exactLimit, so the graph is walked
		}
		docs[id] = index.Doc{Modality: mod, Kind: "image2d"}
	}
	if err := l.meta.Put(docs, 0); err != nil {
		t.Fatal(err)
	}
	oracle := func(q []float32, mod string, k int) []string {
		type s struct {
			id string
			d  float64
		}
		var all []s
		for id, v := range vecs {
			if docs[id].Modality != mod {
				continue
			}
			var dot float64
			for i := range q {
				dot += float64(q[i] * v[i])
			}
			all = append(all, s{id, dot})
		}
		for i := range all { // selection sort of the top k is enough here
			for j := i + 1; j < len(all); j++ {
				if all[j].d > all[i].d {
					all[i], all[j] = all[j], all[i]
				}
			}
			if i == k-1 {
				break
			}
		}
		out := []string{}
		for _, a := range all[:min(k, len(all))] {
			out = append(out, a.id)
		}
		return out
	}
	for qi := range 20 {
		q := vecs[fmt.Sprintf("i%05d", qi*37+1)]
		for _, tc := range []struct {
			mod     string
			minHits int // of the true 10
		}{{"XA", 10}, {"CT", 9}} {
			match, err := l.meta.Match("modality:" + tc.mod)
			if err != nil {
				t.Fatal(err)
			}
			res, err := l.hybrid(q, 10, match, "")
			if err != nil || len(res) != 10 {
				t.Fatalf("%s: %d results, %v", tc.mod, len(res), err)
			}
			want := map[string]bool{}
			for _, id := range oracle(q, tc.mod, 10) {
				want[id] = true
			}
			hits := 0
			for _, r := range res {
				if docs[r.ID].Modality != tc.mod {
					t.Fatalf("%s filter returned %s", tc.mod, docs[r.ID].Modality)
				}
				if want[r.ID] {
					hits++
				}
			}
			if hits < tc.minHits {
				t.Fatalf("%s: %d of the true 10 nearest", tc.mod, hits)
			}
		}
	}
}

// TestMetadataIndexBehindCatalog (issue 17, finding 3): items the catalog
// committed but the metadata index never got (a kill between the two
// writes) are found by filters again after the next open, which rebuilds
// the index and says so.
func TestMetadataIndexBehindCatalog(t *testing.T) {
	src := t.TempDir()
	for i := range 3 {
		writePNG(t, filepath.Join(src, string(rune('a'+i))+".png"), uint8(40+i*60))
	}
	dir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	l := openLib(t, dir, emb)
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	// As if killed after the catalog's commit: a fourth item in the
	// catalog alone.
	extra := rep.Items[0]
	extra.ID, extra.Path = "fextra", filepath.Join(src, "extra.png")
	if err := l.cat.PutAll([]catalog.Entry{{Item: extra, Model: "fake@1", Vector: []float32{1, 0}}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openLib(t, dir, emb)
	defer l.Close()
	if notes := strings.Join(l.Notes(), "; "); !strings.Contains(notes, "metadata index was behind") {
		t.Fatalf("notes %q", notes)
	}
	match, err := l.Match("format:png")
	if err != nil || len(match) != 4 || !match["fextra"] {
		t.Fatalf("filter finds %v %v", match, err)
	}
	l.Close()
	if again := openLib(t, dir, emb); len(again.Notes()) != 0 {
		t.Fatalf("a third open still rebuilt: %v", again.Notes())
	}
}

// A library switches its graph between float32 and int8 vectors as
// $M3RET_VECTORS (or its size) says, at open, with a note; the int8 graph
// answers the same first hits and survives a reopen.
func TestVectorStorageSwitch(t *testing.T) {
	src := t.TempDir()
	for i := range 6 {
		writePNG(t, filepath.Join(src, string(rune('a'+i))+".png"), uint8(20+i*40))
	}
	dir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	l := openLib(t, dir, emb)
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	id := l.mustFirstID(t)
	l.Close()
	graph := filepath.Join(dir, vectorsFile)
	for _, tc := range []struct {
		env, note string
		int8      bool
	}{
		{"int8", "keeps int8 vectors", true},
		{"int8", "", true}, // reopened as it was saved
		{"float32", "keeps float32 vectors", false},
		{"", "", false}, // auto: small libraries keep float32
	} {
		t.Setenv("M3RET_VECTORS", tc.env)
		l := openLib(t, dir, emb)
		notes := strings.Join(l.Notes(), "; ")
		if (tc.note == "") != (notes == "") || !strings.Contains(notes, tc.note) {
			t.Fatalf("%q: notes %q, want %q", tc.env, notes, tc.note)
		}
		g := l.vectors().(*index.HNSW)
		if g.Quantized() != tc.int8 || g.Len() != 6 {
			t.Fatalf("%q: int8 %v, %d vectors", tc.env, g.Quantized(), g.Len())
		}
		if _, err := os.Stat(graph + ".f32"); (err == nil) != tc.int8 {
			t.Fatalf("%q: vector file present %v", tc.env, err == nil)
		}
		vec, _ := l.cat.Vector(emb.ModelID(), id)
		hits, err := g.Search(vec, 1, nil)
		if err != nil || len(hits) != 1 || hits[0].ID != id || hits[0].Score < 0.9999 {
			t.Fatalf("%q: %+v %v", tc.env, hits, err)
		}
		l.Close()
	}
}
