package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/assets"
)

// writeModel writes the embedded baseline model into a new folder as
// baseline.onnx, with its manifest changed by edit (version "2" unless
// edit says otherwise: another embedding space), and returns the folder.
func writeModel(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	man, onnx, err := assets.Model("baseline")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = "2"
	if edit != nil {
		edit(m)
	}
	if man, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "baseline.json"), man, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "baseline.onnx"), onnx, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// lyingManifests are manifests that do not describe baseline.onnx, and
// what the refusal must say.
var lyingManifests = []struct {
	name string
	edit func(m map[string]any)
	want string
}{
	{"sha256 of another file", func(m map[string]any) { m["sha256"] = strings.Repeat("ab", 32) }, "sha256"},
	{"input shape not the graph's", func(m map[string]any) {
		m["input"].(map[string]any)["shape"] = []int{-1, 1, 1, 96, 96}
	}, "graph input has shape"},
	{"output dimension not the graph's", func(m map[string]any) {
		m["output"].(map[string]any)["dim"] = 192
	}, "graph output has shape"},
}

func TestModelAddRefusesLyingManifest(t *testing.T) {
	requireORT(t)
	t.Setenv("M3RET_MODELS", filepath.Join(t.TempDir(), "models"))
	for _, tt := range lyingManifests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeModel(t, tt.edit)
			code, out, errs := runCLI(t, "model", "add", dir)
			if code != cli.ExitError || !strings.Contains(errs, tt.want) || !strings.Contains(errs, "does not match its manifest") {
				t.Fatalf("add: %d %q %q", code, out, errs)
			}
			if entries, _ := os.ReadDir(cli.ModelsDir()); len(entries) != 0 {
				t.Fatalf("models folder holds %d entries after a refusal", len(entries))
			}
		})
	}
}

// TestModelAddListUse adds a model (a folder holding both files), checks
// its copy is the user's alone, lists it, and moves a library to it.
func TestModelAddListUse(t *testing.T) {
	requireORT(t)
	t.Setenv("M3RET_MODELS", filepath.Join(t.TempDir(), "models"))
	lib := filepath.Join(t.TempDir(), "lib")
	src := writeImages(t, 3)
	if code, _, errs := runCLI(t, "import", "--library", lib, src); code != cli.ExitOK {
		t.Fatalf("import: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, "model", "add", "--json", writeModel(t, nil))
	var added cli.ModelInfo
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &added) != nil || added.ID[:10] != "baseline@2" {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	for _, p := range []string{filepath.Dir(added.Path), added.Path, filepath.Join(filepath.Dir(added.Path), "baseline.onnx")} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s: %v %v", p, st.Mode(), err)
		}
	}
	list := func() modelsDoc {
		t.Helper()
		code, out, errs := runCLI(t, "model", "list", "--library", lib, "--json")
		var d modelsDoc
		if code != cli.ExitOK || json.Unmarshal([]byte(out), &d) != nil {
			t.Fatalf("list: %d %s %s", code, out, errs)
		}
		return d
	}
	d := list()
	if len(d.Models) != 3 || d.Models[2].ID != added.ID || d.Models[2].InUse || !d.Models[0].InUse {
		t.Fatalf("list before: %+v", d)
	}
	if code, out, errs := runCLI(t, "model", "use", "--library", lib, "baseline@2", "--json"); code != cli.ExitOK || !strings.Contains(out, `"reindexed": 3`) {
		t.Fatalf("use: %d %s %s", code, out, errs)
	}
	if d := list(); !d.Models[2].InUse || d.Models[0].InUse || d.Library.Model != added.ID {
		t.Fatalf("list after: %+v", d)
	}
}
