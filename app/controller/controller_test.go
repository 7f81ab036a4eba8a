package controller

import (
	"context"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/m3ret/viewer/app/internal/apptest"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// fakeEmbedder embeds a sample as the normalised vector (x, 1-x) of its
// brightness-weighted horizontal centre x (0 left, 1 right), so that the
// test images, a bright square shifted along x, are neighbours in order.
// With gate set, Embed waits for a value on it first, ignoring its context
// (a slow model that returns late); with block set, it waits for its
// context.
type fakeEmbedder struct {
	gate  chan struct{}
	block bool
}

func (f *fakeEmbedder) ModelID() string { return "fake@1" }

func (f *fakeEmbedder) Embed(ctx context.Context, samples []media.Sample) ([][]float32, error) {
	if f.gate != nil {
		<-f.gate
	}
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out := make([][]float32, len(samples))
	for i, s := range samples {
		var sum, moment float64
		for p, v := range s.Data {
			x := float64(p%(s.Width*max(s.Channels, 1))) / float64(s.Width*max(s.Channels, 1))
			sum, moment = sum+float64(v), moment+x*float64(v)
		}
		x := moment / max(sum, 1e-9)
		n := math.Hypot(x, 1-x)
		out[i] = []float32{float32(x / n), float32((1 - x) / n)}
	}
	return out, nil
}

// newController opens a library on emb in a temporary folder.
func newController(t *testing.T, emb library.Embedder) *Controller {
	t.Helper()
	lib, err := library.Open(filepath.Join(t.TempDir(), "lib"), emb)
	if err != nil {
		t.Fatal(err)
	}
	c := New(lib, Options{})
	t.Cleanup(func() { c.Close() })
	return c
}

var writeImages = apptest.WriteImages

// deliveries collects what jobs deliver.
type deliveries[T any] struct {
	mu   sync.Mutex
	got  []T
	errs []error
}

func (d *deliveries[T]) add(v T, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got, d.errs = append(d.got, v), append(d.errs, err)
}

func TestImportQueryRefineRemove(t *testing.T) {
	c := newController(t, &fakeEmbedder{})
	dir := writeImages(t, 5)
	rep, err := c.Import(context.Background(), []string{dir}, nil)
	if err != nil || rep.Imported != 5 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	var d deliveries[*Search]
	if err := c.StartQuery(QueryRequest{Path: filepath.Join(dir, "c.png")}, d.add); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	s := c.Current()
	if len(d.got) != 1 || d.errs[0] != nil || s == nil || s.Name != "c.png" || len(s.Results) != 5 || len(s.Thumbs) != 5 {
		t.Fatalf("query: %+v %v", s, d.errs)
	}
	second := s.Results[1].Item.ID
	if err := c.StartQuery(QueryRequest{Refine: second}, d.add); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	if s := c.Current(); s.Name != "c.png + 1 example" || len(s.Results) != 4 {
		t.Fatalf("refined: %q, %d results", s.Name, len(s.Results))
	}
	c.SetFilter("modality:CT")
	if err := c.Requery(d.add); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	if s := c.Current(); s.Name != "c.png" || len(s.Results) != 0 {
		t.Fatalf("requery with a filter: %q, %d results", s.Name, len(s.Results))
	}
	var removed deliveries[error]
	if err := c.StartRemove(second, func(err error) { removed.add(err, nil) }); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	c.SetFilter("")
	if l, err := c.Browse(); len(removed.got) != 1 || removed.got[0] != nil || err != nil || l.Total != 4 {
		t.Fatalf("after remove: %v, %+v %v", removed.got, l, err)
	}
}

func TestListingOrderAndFilter(t *testing.T) {
	c := newController(t, &fakeEmbedder{})
	if _, err := c.Import(context.Background(), []string{writeImages(t, 3)}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		order  Order
		filter string
		want   string
	}{
		{ByName, "", "a.png b.png c.png"},
		{ByName, "modality:CT", ""},
		{ByName, "+modality:MR +format:png", "a.png b.png c.png"},
		{OrderOf("File name"), "", "a.png b.png c.png"},
	}
	for _, tc := range tests {
		c.SetOrder(tc.order)
		c.SetFilter(tc.filter)
		var d deliveries[*Listing]
		if err := c.StartRefresh(d.add); err != nil {
			t.Fatal(err)
		}
		c.Wait()
		var names []string
		for _, it := range d.got[0].Items {
			names = append(names, filepath.Base(it.Path))
		}
		if got := joinSpace(names); got != tc.want || d.got[0].Total != 3 {
			t.Errorf("%v %q: %q of %d, want %q", tc.order, tc.filter, got, d.got[0].Total, tc.want)
		}
	}
}

func joinSpace(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

// TestStaleQueryDropped: a search that returns after a newer one has been
// delivered must not replace it.
func TestStaleQueryDropped(t *testing.T) {
	emb := &fakeEmbedder{}
	c := newController(t, emb)
	dir := writeImages(t, 3)
	if _, err := c.Import(context.Background(), []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	emb.gate = gate // file searches now wait for the gate, whatever their context; item searches embed nothing
	var d deliveries[*Search]
	if err := c.StartQuery(QueryRequest{Path: filepath.Join(dir, "a.png")}, d.add); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the first search is in Embed
	if err := c.StartQuery(QueryRequest{ItemID: mustID(t, c, "c.png")}, d.add); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { d.mu.Lock(); defer d.mu.Unlock(); return len(d.got) == 1 })
	close(gate) // now the first one returns, late
	c.Wait()
	if len(d.got) != 1 || d.got[0].Name != "c.png" || c.Current().Name != "c.png" {
		t.Fatalf("delivered %d searches; current %q", len(d.got), c.Current().Name)
	}
}

func mustID(t *testing.T, c *Controller, name string) string {
	t.Helper()
	items, err := c.Library().Items()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if filepath.Base(it.Path) == name {
			return it.ID
		}
	}
	t.Fatalf("no item %s", name)
	return ""
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("timed out")
		}
	}
}

// TestCancelImport: Cancel stops a running import, whose delivery says so;
// a second import meanwhile is refused.
func TestCancelImport(t *testing.T) {
	c := newController(t, &fakeEmbedder{block: true})
	dir := writeImages(t, 3)
	var d deliveries[*library.Report]
	if err := c.StartImport([]string{dir}, nil, d.add); err != nil {
		t.Fatal(err)
	}
	if err := c.StartImport([]string{dir}, nil, d.add); !errors.Is(err, ErrBusy) {
		t.Fatalf("second import: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Cancel(Import)
	c.Wait()
	if len(d.got) != 1 || !errors.Is(d.errs[0], context.Canceled) || !IsCancel(d.errs[0]) || c.Running(Import) {
		t.Fatalf("deliveries %v, running %v", d.errs, c.Running(Import))
	}
}

// TestCloseDuringVideoDecode imports a long clip and closes while ffmpeg
// decodes it: Close returns within a second, and nothing is delivered.
func TestCloseDuringVideoDecode(t *testing.T) {
	clip := longClip(t)
	c := newController(t, &fakeEmbedder{})
	var d deliveries[*library.Report]
	if err := c.StartImport([]string{clip}, nil, d.add); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // ffprobe and ffmpeg are running
	if !c.Running(Import) {
		t.Fatal("the import ended before Close: the clip is too short to test anything")
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("Close returned in %v while ffmpeg was decoding", took)
	if took > time.Second {
		t.Fatalf("Close took %v while a clip was decoding", took)
	}
	if len(d.got) != 0 {
		t.Fatalf("a closed controller delivered %v", d.errs)
	}
	if err := c.StartQuery(QueryRequest{Path: clip}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("a job after Close: %v", err)
	}
}

// longClip writes a two-minute MPEG-2 program stream (no frame count in
// the container: ffprobe counts by decoding, then ffmpeg decodes again), a
// few seconds of decoding when nothing cancels it.
func longClip(t *testing.T) string {
	t.Helper()
	samples.Tool(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), "long.mpg")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=30", "-t", "120",
		"-c:v", "mpeg2video", "-q:v", "20", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make clip: %v %s", err, msg)
	}
	return out
}
