// Package racetest splits the test suite between its two runs in
// `make test`: the race detector's (`go test -race ./...`, every test but
// the heavy ones) and `make test-heavy` (the heavy ones alone, without
// -race).
package racetest

import "testing"

// Heavy marks a large number-crunching test: recall over thousands of
// vectors, hundreds of MiB through a decompressor or a video decoder,
// where the race detector finds nothing to report (single-goroutine code,
// or concurrency that other tests run under it) and slows the test 2 to 18
// times.
// Built with -race, the test skips; `make test-heavy` runs it without -race
// with the same sizes and assertions, and `go test ./...` without -race runs
// it as any other. A test calling Heavy must be named in the Makefile's
// HEAVY_TESTS (the run of `make test-heavy`) and in the README's test
// targets table.
func Heavy(t testing.TB) {
	t.Helper()
	if Enabled {
		t.Skip("heavy: run without -race by make test-heavy")
	}
}
