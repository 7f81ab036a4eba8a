package app

import (
	"encoding/json"
	"github.com/m3ret/viewer/app/cli"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/assets"
)

// TestModelFollowsLibrary checks which model a command uses when none is
// named: a library built with another embedded model keeps it (so a library
// made before the default changed still opens), a new library gets
// assets.DefaultModel, naming the other model explicitly is refused with a
// hint, and reindex without --model moves the library to the default.
func TestModelFollowsLibrary(t *testing.T) {
	requireORT(t)
	other := "m3ret-vit"
	if assets.DefaultModel == other {
		other = "baseline"
	}
	src := writeImages(t, 2)
	lib := filepath.Join(t.TempDir(), "lib")
	if code, _, errs := runCLI(t, "import", "--library", lib, "--model", other, src); code != cli.ExitOK {
		t.Fatalf("import: %d %s", code, errs)
	}
	modelOf := func(lib string) string {
		t.Helper()
		code, out, errs := runCLI(t, "info", "--library", lib, "--json")
		var info struct{ Model struct{ Name string } }
		if err := json.Unmarshal([]byte(out), &info); err != nil || code != cli.ExitOK {
			t.Fatalf("info: %d %v %s", code, err, errs)
		}
		return info.Model.Name
	}
	tests := []struct {
		name, lib, want string
	}{
		{"library built with another model", lib, other},
		{"new library", filepath.Join(t.TempDir(), "new"), assets.DefaultModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := modelOf(tt.lib); got != tt.want {
				t.Fatalf("model %q, want %q", got, tt.want)
			}
		})
	}
	code, _, errs := runCLI(t, "query", "--library", lib, "--model", assets.DefaultModel, filepath.Join(src, "a.png"))
	if code != cli.ExitError || !strings.Contains(errs, "another model") || !strings.Contains(errs, "m3ret reindex") {
		t.Fatalf("explicit other model: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "reindex", "--library", lib); code != cli.ExitOK {
		t.Fatalf("reindex: %d %s", code, errs)
	}
	if got := modelOf(lib); got != assets.DefaultModel {
		t.Fatalf("after reindex: model %q, want %q", got, assets.DefaultModel)
	}
}
