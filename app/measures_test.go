//go:build !headless

package app

import (
	"strings"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/measure"
)

// TestMeasurementsKeptAndReopened draws on both sides of a comparison (an
// item query), waits for the library to hold them under each item, and
// finds them again when the result opens in the Viewer tab.
func TestMeasurementsKeptAndReopened(t *testing.T) {
	g := newTestGUI(t)
	g.StartImport([]string{writeImages(t, 3)})
	g.Wait()
	g.libGrid.Select(0)
	g.findSimilar()
	g.Wait()
	g.results.Select(0)
	g.Wait()
	query, result := g.queryItem(), g.s.Comparing()
	if query == "" || result == "" || g.compare.Result.Sample() == nil {
		t.Fatalf("no comparison: query %q result %q", query, result)
	}
	g.startupMeasure()
	if s := g.measureSummary(); strings.Count(s, "length ") != 2 || strings.Count(s, "ellipse mean ") != 2 {
		t.Fatalf("summary %q", s)
	}
	kept := func(id string) []measure.Measurement {
		deadline := time.Now().Add(10 * time.Second)
		for {
			ms, err := g.s.Library().Measurements(id)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 2 || time.Now().After(deadline) {
				return ms
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if q, r := kept(query), kept(result); len(q) != 2 || len(r) != 2 || r[0].Kind != measure.Length || r[1].Kind != measure.Ellipse {
		t.Fatalf("kept: query %+v, result %+v", q, r)
	}
	g.OpenItem(result)
	g.Wait()
	if ms := g.viewer.image.Measured(); len(ms) != 2 || ms[1].Value.N == 0 || len(g.viewer.list.Rows()) != 2 {
		t.Fatalf("reopened: %+v", ms)
	}
}
