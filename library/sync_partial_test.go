package library

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/m3ret/viewer/library/pacs"
)

// TestSyncKeepsWhatAPartialPageHolds: a study listed without a valid UID is
// one failure (the watermark stays), and the valid studies around it, on
// that page and the pages after it, are still synced.
func TestSyncKeepsWhatAPartialPageHolds(t *testing.T) {
	uids := []string{"1.2.1", "../../etc/passwd", "1.2.3", "1.2.4", "1.2.5"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		w.Header().Set("Content-Type", "application/dicom+json")
		fmt.Fprint(w, "[")
		for i := off; i < min(off+limit, len(uids)); i++ {
			if i > off {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"0020000D":{"vr":"UI","Value":[%q]},"00080020":{"vr":"DA","Value":["2024010%d"]}}`, uids[i], i+1)
		}
		fmt.Fprint(w, "]")
	}))
	defer srv.Close()
	c, err := pacs.New(pacs.Config{Name: "hostile", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1"})
	rep := &SyncReport{}
	got, err := l.studiesSince(context.Background(), c, "", 2, rep)
	if err != nil {
		t.Fatalf("studies: %v", err)
	}
	var kept []string
	for _, s := range got {
		kept = append(kept, s.UID)
	}
	if fmt.Sprint(kept) != "[1.2.1 1.2.3 1.2.4 1.2.5]" {
		t.Errorf("kept %v, want the four valid studies", kept)
	}
	if len(rep.Failed) != 1 {
		t.Errorf("failures %+v, want one for the study without a valid UID", rep.Failed)
	}
}
