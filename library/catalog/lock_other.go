//go:build !unix && !windows

package catalog

import "os"

// Elsewhere (Plan 9, WebAssembly) there is no advisory lock: a library
// must not be used by two processes at once.
func tryLock(*os.File, bool) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
