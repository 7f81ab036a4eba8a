package controller

import (
	"context"
	"errors"
	"testing"

	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
)

// paddedEmbedder is another model: the fake's vector with a third 0. Its
// first Embed says so on started and waits for release (when set).
type paddedEmbedder struct {
	fakeEmbedder
	started, release chan struct{}
}

func (p *paddedEmbedder) ModelID() string { return "padded@1" }
func (p *paddedEmbedder) BatchSize() int  { return 1 }

func (p *paddedEmbedder) Embed(ctx context.Context, s []media.Sample) ([][]float32, error) {
	if p.started != nil {
		close(p.started)
		p.started = nil
		select {
		case <-p.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	vecs, err := p.fakeEmbedder.Embed(ctx, s)
	for i := range vecs {
		vecs[i] = append(vecs[i], 0)
	}
	return vecs, err
}

// reembedDone is what a StartReembed delivered.
type reembedDone struct {
	Reembedded
	err error
}

func startReembed(t *testing.T, c *Controller, emb library.Embedder) chan reembedDone {
	t.Helper()
	done := make(chan reembedDone, 1)
	err := c.StartReembed(func(context.Context) (library.Embedder, error) { return emb, nil }, nil,
		func(r Reembedded, err error) { done <- reembedDone{r, err} })
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// TestReembedCancelThenSwitch: while a re-embed runs, imports are refused
// and searches answer with the old model; Cancel leaves the library on it;
// a complete run switches.
func TestReembedCancelThenSwitch(t *testing.T) {
	c := newController(t, &fakeEmbedder{})
	dir := writeImages(t, 4)
	if _, err := c.Import(context.Background(), []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	held := &paddedEmbedder{started: make(chan struct{}), release: make(chan struct{})}
	started := held.started
	done := startReembed(t, c, held)
	<-started
	if err := c.StartImport([]string{dir}, nil, func(*library.Report, error) {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("import during the re-embed: %v", err)
	}
	s, err := c.Query(context.Background(), QueryRequest{Path: dir + "/b.png"})
	if err != nil || len(s.Vector) != 2 || len(s.Results) != 4 {
		t.Fatalf("query during the re-embed: %+v %v", s, err)
	}
	c.Cancel(Reindex)
	if r := <-done; !IsCancel(r.err) || r.New != held || r.Switched || c.Library().ModelID() != "fake@1" {
		t.Fatalf("cancelled: %v, model %s", r.err, c.Library().ModelID())
	}

	r := <-startReembed(t, c, &paddedEmbedder{})
	if r.err != nil || !r.Switched || r.Report.Imported+r.Report.Skipped != 4 || c.Library().ModelID() != "padded@1" {
		t.Fatalf("complete: %+v %v, model %s", r.Report, r.err, c.Library().ModelID())
	}
	s, err = c.Query(context.Background(), QueryRequest{Path: dir + "/b.png"})
	if err != nil || len(s.Vector) != 3 || len(s.Results) != 4 {
		t.Fatalf("query after the switch: %+v %v", s, err)
	}
}
