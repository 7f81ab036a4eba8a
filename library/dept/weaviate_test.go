package dept_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/dept"
	"github.com/m3ret/viewer/library/dept/depttest"
	"github.com/m3ret/viewer/library/index"
)

const testModel = "test-model@1"

// corpus is n clustered vectors with varied metadata, as records and as
// the local index's documents (for filter parity).
func corpus(n, dim int) ([]dept.Record, [][]float32, map[string]index.Doc) {
	vecs := index.Synthetic("clustered", n, dim, 5)
	mods := []string{"CT", "MR", "US", "XA", "CR"}
	parts := []string{"CHEST", "HEAD", "ABDOMEN", ""}
	descs := []string{"axial flair brain", "chest pa", "liver arterial phase", "knee sagittal pd"}
	recs := make([]dept.Record, n)
	docs := map[string]index.Doc{}
	for i := range recs {
		date := time.Date(2015+i%10, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		r := dept.Record{ItemID: fmt.Sprintf("d%015x", i), Model: testModel, Kind: []string{"volume", "image", "video"}[i%3],
			Modality: mods[i%len(mods)], BodyPart: parts[i%len(parts)], Description: descs[i%len(descs)],
			StudyDate: date.Format("20060102"), Format: "dicom", Width: 256 + i%3*256, Height: 256, Frames: 1 + i%200,
			Server: "pacs1", StudyUID: fmt.Sprintf("1.2.3.%d", i/4), SeriesUID: fmt.Sprintf("1.2.3.%d.%d", i/4, i%4)}
		recs[i] = r
		docs[r.ItemID] = index.Doc{Kind: r.Kind, Modality: r.Modality, BodyPart: r.BodyPart, Description: r.Description,
			StudyDate: date.Format(time.RFC3339), Format: r.Format, Width: r.Width, Height: r.Height, Frames: r.Frames,
			SeriesUID: r.SeriesUID}
	}
	return recs, vecs, docs
}

func upsertAll(t *testing.T, ix *dept.Index, recs []dept.Record, vecs [][]float32) {
	t.Helper()
	for i := 0; i < len(recs); i += 500 {
		j := min(i+500, len(recs))
		if err := ix.Upsert(context.Background(), recs[i:j], vecs[i:j]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSingleNode: a collection is made with our vectors, upserts are
// idempotent, recall@10 against exact search is at least 0.98, filters
// select exactly what the local bleve index selects, and a workstation on
// another model is refused.
func TestSingleNode(t *testing.T) {
	c := depttest.Start(t, 1)
	cfg, err := dept.ParseURL(c.URL("Cases"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := dept.Open(ctx, cfg, dept.Options{Model: testModel}); !errors.Is(err, dept.ErrNoCollection) {
		t.Fatalf("open of a missing collection without Create: %v, want ErrNoCollection", err)
	}
	const n, dim = 3000, 64
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: dim, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	recs, vecs, docs := corpus(n, dim)
	upsertAll(t, ix, recs, vecs)
	upsertAll(t, ix, recs[:700], vecs[:700]) // again: replaces, adds nothing
	if got, err := ix.Count(ctx, ""); err != nil || got != n {
		t.Fatalf("count after upserting twice = %d (%v), want %d", got, err, n)
	}
	exact := index.NewExact(dim)
	for i, r := range recs {
		exact.Add(r.ItemID, vecs[i])
	}
	checkRecall(t, ix, exact, index.Synthetic("clustered", 100, dim, 77), 0.98)
	checkFilters(t, ix, exact, docs)

	if _, err := dept.Open(ctx, cfg, dept.Options{Model: "other-model@2"}); !errors.Is(err, dept.ErrModelMismatch) {
		t.Fatalf("open with another model: %v, want ErrModelMismatch", err)
	}
	hits, err := ix.Search(ctx, vecs[3], 5, "", recs[3].ItemID)
	if err != nil || len(hits) != 5 || hits[0].Record.ItemID == recs[3].ItemID {
		t.Fatalf("search excluding the query item: %v %v", hits, err)
	}
	if r := hits[0].Record; r.Server != "pacs1" || r.SeriesUID == "" || r.StudyDate == "" || r.Model != testModel {
		t.Fatalf("record read back incompletely: %+v", r)
	}
}

func checkRecall(t *testing.T, ix *dept.Index, exact *index.Exact, queries [][]float32, want float64) {
	t.Helper()
	if r := recall(t, ix, exact, queries); r < want {
		t.Fatalf("recall@10 = %.3f, want >= %.2f", r, want)
	} else {
		t.Logf("recall@10 = %.3f over %d queries", r, len(queries))
	}
}

// recall is recall@10 of ix against exact search.
func recall(t *testing.T, ix *dept.Index, exact *index.Exact, queries [][]float32) float64 {
	t.Helper()
	found, total := 0, 0
	for _, q := range queries {
		truth, _ := exact.Search(q, 10, nil)
		hits, err := ix.Search(context.Background(), q, 10, "", "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, h := range hits {
			got[h.Record.ItemID] = true
		}
		for _, h := range truth {
			total++
			if got[h.ID] {
				found++
			}
		}
	}
	return float64(found) / float64(total)
}

// checkFilters compares, filter by filter, the ids the department index
// returns with those the local bleve index matches, and the filtered top
// 10 with exact search over the matching ids.
func checkFilters(t *testing.T, ix *dept.Index, exact *index.Exact, docs map[string]index.Doc) {
	t.Helper()
	meta, _, err := index.OpenMeta(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	if err := meta.Put(docs, 1); err != nil {
		t.Fatal(err)
	}
	q := index.Synthetic("clustered", 1, 64, 123)[0]
	for _, f := range []string{"modality:CT", "+modality:MR +body_part:HEAD", "modality:US modality:XA",
		`study_date:>="2020-01-01" +kind:volume`, "+frames:>150 -modality:CT", "description:flair",
		"+description:chest +width:512", `+study_date:<"2016-06-01"`} {
		match, err := meta.Match(f)
		if err != nil {
			t.Fatalf("bleve %q: %v", f, err)
		}
		n, err := ix.Count(context.Background(), f)
		if err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		if n != len(match) {
			t.Errorf("%q: department index counts %d, bleve matches %d", f, n, len(match))
			continue
		}
		ids := make([]string, 0, len(match))
		for id := range match {
			ids = append(ids, id)
		}
		truth, _ := exact.Score(q, ids, 10)
		hits, err := ix.Search(context.Background(), q, 10, f, "")
		if err != nil {
			t.Fatal(err)
		}
		if a, b := idsOf(hits), truthIDs(truth); a != b {
			t.Errorf("%q: filtered top 10\n got %s\nwant %s", f, a, b)
		}
	}
}

func idsOf(hits []dept.Hit) string {
	s := make([]string, len(hits))
	for i, h := range hits {
		s[i] = h.Record.ItemID
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}

func truthIDs(hits []index.Hit) string {
	s := make([]string, len(hits))
	for i, h := range hits {
		s[i] = h.ID
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}

// TestAPIKey: a cluster that takes an API key refuses a client without it
// (at once, with a clear error) and serves one with it, over HTTP and gRPC.
func TestAPIKey(t *testing.T) {
	c := depttest.StartWith(t, 1, depttest.Options{APIKey: "k-" + fmt.Sprint(time.Now().UnixNano())})
	cfg, _ := dept.ParseURL(c.URL("Keyed"))
	ctx := context.Background()
	t0 := time.Now()
	_, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: 8, Create: true})
	if err == nil || time.Since(t0) > 10*time.Second {
		t.Fatalf("without the key: %v after %s", err, time.Since(t0))
	}
	t.Logf("without the key: %v", err)
	cfg.APIKey = c.APIKey()
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: 8, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	recs, vecs, _ := corpus(50, 8)
	if err := ix.Upsert(ctx, recs, vecs); err != nil {
		t.Fatal(err)
	}
	if hits, err := ix.Search(ctx, vecs[0], 3, "", ""); err != nil || len(hits) != 3 {
		t.Fatalf("search with the key: %v %v", hits, err)
	}
}
