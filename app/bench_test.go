package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/assets"
)

func TestBenchEmbed(t *testing.T) {
	requireORT(t)
	code, out, errs := runCLI(t, "bench", "embed", "--json", "--python", "", "--scale", "0.1", "--provider", "cpu")
	var rep struct {
		Provider string
		Kinds    []struct {
			Kind      string
			ItemsPerS float64 `json:"items_per_s"`
		}
		Twin struct {
			ORTItemsPerS float64 `json:"ort_items_per_s"`
			TorchError   string  `json:"torch_error"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitOK {
		t.Fatalf("exit %d %v: %s %s", code, err, out, errs)
	}
	if len(rep.Kinds) != 3 || rep.Provider != "CPU" || rep.Twin.ORTItemsPerS <= 0 || rep.Twin.TorchError != "skipped" {
		t.Fatalf("%+v", rep)
	}
	for _, k := range rep.Kinds {
		if k.ItemsPerS <= 0 {
			t.Fatalf("%+v", k)
		}
	}
}

// TestReindexCLI re-embeds a library with a second model (the baseline
// graph under another version, so another embedding space) and checks that
// the library then answers with that model only.
func TestReindexCLI(t *testing.T) {
	requireORT(t)
	lib := filepath.Join(t.TempDir(), "lib")
	src := writeImages(t, 3)
	if code, _, errs := runCLI(t, "import", "--library", lib, src); code != ExitOK {
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
	if code != ExitOK || !strings.Contains(out, `"reindexed": 3`) || !strings.Contains(out, "baseline@2-") {
		t.Fatalf("reindex: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "query", "--library", lib, filepath.Join(src, "a.png")); code != ExitError || !strings.Contains(errs, "another model") {
		t.Fatalf("old model: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "query", "--library", lib, "--model", model, filepath.Join(src, "a.png"), "--json")
	if code != ExitOK || strings.Count(out, `"rank"`) != 3 {
		t.Fatalf("new model: %d %s %s", code, out, errs)
	}
}
