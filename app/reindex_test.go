package app

import (
	"github.com/m3ret/viewer/app/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/assets"
)

// TestReindexCLI re-embeds a library with a second model (the baseline
// graph under another version, so another embedding space) and checks that
// the library then answers with that model only.
func TestReindexCLI(t *testing.T) {
	requireORT(t)
	lib := filepath.Join(t.TempDir(), "lib")
	src := writeImages(t, 3)
	if code, _, errs := runCLI(t, "import", "--library", lib, src); code != cli.ExitOK {
		t.Fatalf("import: %d %s", code, errs)
	}
	man, onnx, _ := assets.Model("baseline")
	dir := t.TempDir()
	man = []byte(strings.Replace(string(man), `"version": "1"`, `"version": "2"`, 1))
	if err := os.WriteFile(filepath.Join(dir, "baseline.json"), man, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "baseline.onnx"), onnx, 0o600); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "baseline.onnx")
	code, out, errs := runCLI(t, "reindex", "--library", lib, "--model", model, "--json")
	if code != cli.ExitOK || !strings.Contains(out, `"reindexed": 3`) || !strings.Contains(out, "baseline@2-") {
		t.Fatalf("reindex: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "query", "--library", lib, "--model", assets.DefaultModel, filepath.Join(src, "a.png")); code != cli.ExitError || !strings.Contains(errs, "another model") {
		t.Fatalf("old model: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "query", "--library", lib, "--model", model, filepath.Join(src, "a.png"), "--json")
	if code != cli.ExitOK || strings.Count(out, `"rank"`) != 3 {
		t.Fatalf("new model: %d %s %s", code, out, errs)
	}
	// The model file was kept in the models folder: the library finds it
	// again without --model, even once the file is gone.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "query", "--library", lib, filepath.Join(src, "a.png"), "--json")
	if code != cli.ExitOK || strings.Count(out, `"rank"`) != 3 {
		t.Fatalf("remembered model: %d %s %s", code, out, errs)
	}
}
