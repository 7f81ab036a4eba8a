package dept

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// record is a legitimate PACS record for the fakes.
func record(i int) Record {
	return Record{ItemID: fmt.Sprintf("d%016x", i), Model: "m@1", Kind: "volume", Modality: "CT", BodyPart: "CHEST",
		StudyDate: "20200131", Description: "chest ct", Format: "dicom", Width: 512, Height: 512, Frames: 100,
		Server: "main", ServerURL: "http://pacs:8042/dicom-web", StudyUID: fmt.Sprintf("1.2.3.%d", i),
		SeriesUID: fmt.Sprintf("1.2.3.%d.1", i)}
}

// TestSearchLeavesOutPlantedObjects: an object too large for any
// legitimate page (5 MB, or 1 MB, which fits gRPC's default limit) or with
// a "UID" that is a path costs its own place in the results, counted, not
// the search: the others come back, at once (the page is not retried as if
// a node were down).
func TestSearchLeavesOutPlantedObjects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(r *Record)
		want  Dropped
	}{
		{name: "5 MB description", plant: func(r *Record) { r.Description = strings.Repeat("x", 5<<20) }, want: Dropped{Oversized: 1}},
		{name: "1 MB modality", plant: func(r *Record) { r.Modality = strings.Repeat("C", 1<<20) }, want: Dropped{Oversized: 1}},
		{name: "path as study UID", plant: func(r *Record) { r.StudyUID = "../../etc/passwd" }, want: Dropped{Malformed: 1}},
		{name: "path as series UID", plant: func(r *Record) { r.SeriesUID = "1.2/../../x" }, want: Dropped{Malformed: 1}},
		{name: "item id with a slash", plant: func(r *Record) { r.ItemID = "../d1" }, want: Dropped{Malformed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			recs := make([]Record, 10)
			for i := range recs {
				recs[i] = record(i)
			}
			tc.plant(&recs[3])
			f.add(t, recs...)
			ix := f.open(t)
			hits, dropped, err := ix.SearchNoted(context.Background(), []float32{1, 0, 0, 0}, 10, "", "")
			if err != nil {
				t.Fatalf("search with one planted object: %v", err)
			}
			if dropped != tc.want || len(hits) != 9 {
				t.Fatalf("%d hits, dropped %+v; want 9 and %+v", len(hits), dropped, tc.want)
			}
			for i, h := range hits {
				want := recs[i]
				if i >= 3 { // the fourth is left out
					want = recs[i+1]
				}
				if h.Record.ItemID != want.ItemID || h.Record.StudyUID != want.StudyUID {
					t.Fatalf("hit %d is %s, want %s in order", i, h.Record.ItemID, want.ItemID)
				}
			}
			if n := f.pageSearches(); n > 1 {
				t.Fatalf("the page was asked %d times: an oversized answer was retried like a node down", n)
			}
			if note := dropped.Note(); !strings.Contains(note, "1 result of the department index left out") {
				t.Fatalf("note %q", note)
			}
		})
	}
}

// TestSearchLegitimatePage: a page of k legitimate objects at their bounds
// fits the receive limit: no fallback, nothing dropped.
func TestSearchLegitimatePage(t *testing.T) {
	f := startFake(t)
	for i := 0; i < 50; i++ {
		r := record(i)
		for _, p := range properties {
			if s := r.text(p.name); s != nil {
				*s = strings.Repeat("é", p.max/2) // two bytes each: the bound exactly
			}
		}
		f.add(t, r)
	}
	ix := f.open(t)
	hits, dropped, err := ix.SearchNoted(context.Background(), []float32{1, 0, 0, 0}, 50, "", "")
	if err != nil || len(hits) != 50 || dropped != (Dropped{}) {
		t.Fatalf("50 objects at their bounds: %d hits, dropped %+v, %v", len(hits), dropped, err)
	}
	if n := f.pageSearches(); n != 1 {
		t.Fatalf("%d page searches, want 1 (no fallback)", n)
	}
}

// TestFilterErrorsAsLocal: a filter the department index cannot run is
// said as the local index says a bad filter (filter "…": why), matching
// ErrFilter, never as Weaviate's raw error.
func TestFilterErrorsAsLocal(t *testing.T) {
	for _, tc := range []struct {
		filter    string
		stopwords bool // Weaviate refuses it
		reason    string
	}{
		{filter: "modality:CT OR 1=1", reason: "OR is not an operator here"},
		{filter: "+modality:CT AND body_part:HEAD", reason: "AND is not an operator here"},
		{filter: `modality:"CT`, reason: "unterminated quote"},
		{filter: "modality:C*", reason: "wildcards"},
		{filter: "description:the", stopwords: true, reason: "only stopwords"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			f := startFake(t)
			f.add(t, record(1))
			ix := f.open(t)
			f.mu.Lock()
			f.stopwords = tc.stopwords
			f.mu.Unlock()
			_, err := ix.Search(context.Background(), []float32{1, 0, 0, 0}, 10, tc.filter, "")
			check := func(what string, err error) {
				t.Helper()
				var fe *FilterError
				prefix := fmt.Sprintf("filter %q: ", tc.filter)
				if !errors.Is(err, ErrFilter) || !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), prefix) ||
					!strings.Contains(err.Error(), tc.reason) || strings.Contains(err.Error(), "rpc error") {
					t.Fatalf("%s: %v, want %s…%s…", what, err, prefix, tc.reason)
				}
			}
			check("search", err)
			_, err = ix.Count(context.Background(), tc.filter)
			check("count", err)
		})
	}
}
