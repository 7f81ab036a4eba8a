// Package apptest holds what the tests of app and its subpackages share:
// skipping without ONNX Runtime, settings kept apart from the user's, and
// small synthetic images.
package apptest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/inference"
)

// RequireORT skips (or, under M3RET_REQUIRE_ORT=1, fails) without ONNX
// Runtime.
func RequireORT(t *testing.T) {
	t.Helper()
	if _, err := inference.Start(""); err != nil {
		if os.Getenv("M3RET_REQUIRE_ORT") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// Main runs a package's tests on default settings: M3RET_SETTINGS and
// M3RET_MODELS point into an empty temporary folder, so that a
// developer's own settings file and models cannot change what they check
// (nor the tests add to them).
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "m3ret-settings")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.Setenv("M3RET_SETTINGS", filepath.Join(dir, "settings.json"))
	os.Setenv("M3RET_MODELS", filepath.Join(dir, "models")) // models added by tests
	return m.Run()
}

// WriteImages writes n synthetic grey PNGs (shifted bright squares on a
// gradient) to a new folder named MR-brain and returns it.
func WriteImages(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "MR-brain")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 64, 64))
		for y := range 64 {
			for x := range 64 {
				v := uint8(x * 2)
				if x >= 8*i && x < 8*i+16 && y >= 20 && y < 40 {
					v = 250
				}
				img.SetGray(x, y, color.Gray{Y: v})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".png"), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
