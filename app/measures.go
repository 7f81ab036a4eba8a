//go:build !headless

package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library/measure"
	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

// measureSaver keeps measurements in the library off the UI goroutine: one
// job at a time writes the newest list of each item, so a later change
// never lands before an earlier one.
type measureSaver struct {
	g       *GUI
	mu      sync.Mutex
	pending map[string][]measure.Measurement
	running bool
	// query is the query sample whose measurements the comparison shows
	// (the UI goroutine's).
	query *media.Sample
}

// save queues the measurements of item id ("" for a file outside the
// library: nothing to keep them in).
func (ms *measureSaver) save(id string, list []measure.Measurement) {
	if id == "" {
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.pending == nil {
		ms.pending = map[string][]measure.Measurement{}
	}
	ms.pending[id] = list
	if !ms.running {
		ms.running = true
		// A job, so that the window's Wait and Close wait for it.
		err := controller.Run(ms.g.s.Controller, controller.Annotate, func(ctx context.Context) (struct{}, error) {
			ms.drain(ctx)
			return struct{}{}, nil
		}, func(struct{}, error) {})
		if err != nil {
			ms.running = false
			logf("save measurements of %s: %v", id, err)
		}
	}
}

func (ms *measureSaver) drain(ctx context.Context) {
	for {
		ms.mu.Lock()
		var id string
		var list []measure.Measurement
		for id, list = range ms.pending {
			break
		}
		if id == "" {
			ms.running = false
			ms.mu.Unlock()
			return
		}
		delete(ms.pending, id)
		ms.mu.Unlock()
		if err := ms.g.s.Library().SetMeasurements(ctx, id, list); err != nil {
			logf("save measurements of %s: %v", id, err)
			ms.g.do(func() { ms.g.status.SetText("Could not keep the measurements: " + plain(err)) })
		}
	}
}

// wireMeasures keeps what is measured in the Viewer tab and on both sides
// of the comparison, each under its item.
func (g *GUI) wireMeasures(iv *itemViewer) {
	for _, v := range iv.imageViews(true) {
		v.OnMeasurementsChanged = func(list []measure.Measurement) { iv.saver.save(iv.itemID, list) }
	}
	g.compare.Result.OnMeasurementsChanged = func(list []measure.Measurement) { iv.saver.save(g.s.Comparing(), list) }
	g.compare.Query.OnMeasurementsChanged = func(list []measure.Measurement) { iv.saver.save(g.queryItem(), list) }
}

// queryItem is the library item the current search is about, "" for a
// file, a region or a refined search.
func (g *GUI) queryItem() string {
	if cur := g.s.Current(); cur != nil && cur.Query != nil {
		return cur.ItemID
	}
	return ""
}

// pairMeasures shows the result's measurements beside the query and, for
// a new item query, the query's.
func (g *GUI) pairMeasures(l *controller.Loaded) {
	g.compare.Result.SetMeasurements(l.Measurements)
	saver := g.viewer.saver
	if q := g.compare.Query.Sample(); q != saver.query && g.queryItem() != "" {
		saver.query = q
		g.compare.Query.SetMeasurements(l.QueryMeasurements)
	}
}

// setMeasurements shows an item's measurements in the views of the
// Viewer tab.
func (iv *itemViewer) setMeasurements(list []measure.Measurement) {
	for _, v := range iv.imageViews(false) {
		v.SetMeasurements(list)
	}
}

// startupMeasure draws, as a user would with the keys and the mouse, a
// length and an ellipse on both sides of the comparison (--measure).
func (g *GUI) startupMeasure() {
	fyne.DoAndWait(func() {
		for _, v := range []*viewer.ImageView{g.compare.Query, g.compare.Result} {
			s := v.Sample()
			if s == nil {
				continue
			}
			w, h := float64(s.Width), float64(s.Height)
			robotDrag(v, 'l', measure.Point{X: w * 0.2, Y: h * 0.25}, measure.Point{X: w * 0.6, Y: h * 0.3})
			robotDrag(v, 'e', measure.Point{X: w * 0.35, Y: h * 0.45}, measure.Point{X: w * 0.6, Y: h * 0.65})
			v.SetTool("")
		}
	})
}

// robotDrag picks the tool on key and drags from a to b (slice pixels).
func robotDrag(v *viewer.ImageView, key rune, a, b measure.Point) {
	v.TypedRune(key)
	v.Drag(a, b, 4)
}

// measureSummary is the ready file's line: what each side of the
// comparison measures.
func (g *GUI) measureSummary() string {
	side := func(v *viewer.ImageView) string {
		var parts []string
		for _, m := range v.Measured() {
			parts = append(parts, fmt.Sprintf("%s %s", m.Kind, m.Value.String()))
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprintf("measures=query: %s | result: %s\n", side(g.compare.Query), side(g.compare.Result))
}
