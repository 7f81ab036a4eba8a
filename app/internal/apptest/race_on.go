//go:build race

package apptest

// Race: the test binary was built with -race (the long end-to-end tests
// that run a trainer skip then; their own make target runs them).
const Race = true
