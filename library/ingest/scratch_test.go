package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTempCopyInScratch: a member a reader needs as a real file is copied
// into the folder WithScratch names (a library's own), whole and private,
// and removed afterwards; without one it goes to the system's temporary
// folder.
func TestTempCopyInScratch(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "study.zip")
	payload := bytes.Repeat([]byte("video bytes "), 50_000)
	f, _ := os.Create(archive)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("cine/clip.mp4")
	w.Write(payload)
	zw.Close()
	f.Close()

	scratch := filepath.Join(dir, "lib", "scratch")
	os.MkdirAll(scratch, 0o700)
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{{WithScratch(context.Background(), scratch), scratch}, {context.Background(), os.TempDir()}} {
		var seen string
		_, err := withTempCopy(tc.ctx, archive, "cine/clip.mp4", func(p string) (int, error) {
			seen = p
			got, err := os.ReadFile(p)
			st, _ := os.Stat(p)
			if err != nil || !bytes.Equal(got, payload) || st.Mode().Perm() != 0o600 {
				t.Errorf("copy %s: %d bytes, mode %v, %v", p, len(got), st.Mode(), err)
			}
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(seen, tc.want+string(filepath.Separator)) {
			t.Errorf("copy made at %s, want it under %s", seen, tc.want)
		}
		if _, err := os.Stat(filepath.Dir(seen)); !os.IsNotExist(err) {
			t.Errorf("the copy's folder %s was left behind", filepath.Dir(seen))
		}
	}
}
