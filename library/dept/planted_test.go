package dept_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"

	"github.com/m3ret/viewer/library/dept"
	"github.com/m3ret/viewer/library/dept/depttest"
)

// TestPlantedObjects, on a real Weaviate: objects written around M3Ret by
// anyone holding the index key (a 5 MB description, a path as a study UID)
// are left out of a search, counted, and the other results come back; a
// filter Weaviate refuses (a word that is only stopwords) or that reads as
// another query language (OR) is said as the local index says a bad filter.
func TestPlantedObjects(t *testing.T) {
	c := depttest.Start(t, 1)
	cfg, _ := dept.ParseURL(c.URL("Planted"))
	ctx := context.Background()
	const dim = 8
	ix, err := dept.Open(ctx, cfg, dept.Options{Model: testModel, Dim: dim, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	recs, vecs, _ := corpus(30, dim)
	upsertAll(t, ix, recs, vecs)

	// Planted with the official client, as an attacker would: the query
	// vector is theirs, so both are among its nearest.
	q := vecs[0]
	client, err := wv.NewClient(wv.Config{Host: "127.0.0.1:" + strconv.Itoa(c.Nodes[0].HTTP), Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	for i, props := range []map[string]any{
		{"itemId": "dplanted00000001", "model": testModel, "kind": "image", "description": strings.Repeat("x", 5_000_000)},
		{"itemId": "dplanted00000002", "model": testModel, "kind": "image", "server": "main",
			"studyUid": "../../etc/passwd", "seriesUid": "1.2.3"},
	} {
		_, err := client.Data().Creator().WithClassName("Planted").WithID(dept.ObjectID(props["itemId"].(string))).
			WithProperties(props).WithVector(q).WithConsistencyLevel("QUORUM").Do(ctx)
		if err != nil {
			t.Fatalf("plant object %d: %v", i, err)
		}
	}

	hits, dropped, err := ix.SearchNoted(ctx, q, 10, "", "")
	if err != nil {
		t.Fatalf("search with planted objects: %v", err)
	}
	if dropped != (dept.Dropped{Oversized: 1, Malformed: 1}) || len(hits) != 8 {
		t.Fatalf("%d hits, dropped %+v; want 8, one oversized and one malformed left out", len(hits), dropped)
	}
	for _, h := range hits {
		if strings.HasPrefix(h.Record.ItemID, "dplanted") {
			t.Fatalf("planted object %s among the results", h.Record.ItemID)
		}
	}
	t.Log(dropped.Note())

	for _, tc := range []struct{ filter, reason string }{
		{"modality:CT OR 1=1", "OR is not an operator here"},
		{"description:the", "only stopwords"},
	} {
		_, err := ix.Search(ctx, q, 10, tc.filter, "")
		var fe *dept.FilterError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "filter ") || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("filter %q: %v, want filter %q: …%s…", tc.filter, err, tc.filter, tc.reason)
		}
	}
}
