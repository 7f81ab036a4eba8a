package samples

import (
	"testing"
	"time"
)

// FuzzBudget is the per-input budget of the project's fuzz targets: an
// input over 1 MiB is skipped (ok false), and one that takes longer than 2
// s fails the target when done() runs, as a panic would: a size-driven hang
// (issue 17, finding 1) is a finding. Use it as
//
//	done, ok := samples.FuzzBudget(t, data)
//	if !ok { return }
//	defer done()
func FuzzBudget(t *testing.T, data []byte) (done func(), ok bool) {
	if len(data) > 1<<20 {
		return func() {}, false
	}
	start := time.Now()
	return func() {
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%d bytes took %s", len(data), d)
		}
	}, true
}
