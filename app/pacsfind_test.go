package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
)

// TestPACSFindPartial: a search whose answer holds a study without a valid
// UID shows the valid studies, says on stderr that one was left out (never
// quoting it) and exits with the partial status; --json carries the note.
func TestPACSFindPartial(t *testing.T) {
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "cfg", "settings.json"))
	t.Setenv("M3RET_NO_KEYRING", "1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/dicom+json")
		fmt.Fprint(w, `[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00081030":{"vr":"LO","Value":["Head"]}},
			{"0020000D":{"vr":"UI","Value":["../../PHIMARKER"]}},
			{"0020000D":{"vr":"UI","Value":["1.2.4"]},"00081030":{"vr":"LO","Value":["Chest"]}}]`)
	}))
	defer srv.Close()
	if code, _, errs := runCLI(t, "pacs", "add", "main", srv.URL); code != cli.ExitOK {
		t.Fatalf("add: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, "pacs", "find", "main")
	if code != cli.ExitPartial || !strings.Contains(out, "1.2.3") || !strings.Contains(out, "1.2.4") ||
		!strings.Contains(errs, "left out") || strings.Contains(out+errs, "PHIMARKER") {
		t.Fatalf("find: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "pacs", "find", "main", "--json")
	var doc struct {
		Studies []struct{ UID string } `json:"studies"`
		Partial string                 `json:"partial"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != cli.ExitPartial || len(doc.Studies) != 2 || doc.Partial == "" {
		t.Fatalf("find --json: %d %v %s", code, err, out)
	}
}
