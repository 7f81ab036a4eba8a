package app

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestMain keeps the user's own settings file out of the tests: they run
// on the defaults unless a test sets M3RET_SETTINGS itself.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "m3ret-settings")
	if err != nil {
		panic(err)
	}
	os.Setenv("M3RET_SETTINGS", filepath.Join(dir, "settings.json"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// writeImages writes n synthetic grey PNGs (shifted bright squares on a
// gradient) to a new folder and returns it.
func writeImages(t *testing.T, n int) string {
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
		_ = png.Encode(&b, img)
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".png"), b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
