package app

import (
	"os"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/internal/apptest"
)

// runMainEnv, when set, makes the test binary run the program with these
// arguments (separated by newlines) instead of the tests: a fresh process,
// initialised as m3ret is (see TestQuietLocale).
const runMainEnv = "M3RET_TEST_RUN_MAIN"

// TestMain keeps the user's own settings file out of the tests: they run
// on the defaults unless a test sets M3RET_SETTINGS itself.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(runMainEnv); ok {
		os.Exit(Main(strings.Split(args, "\n")))
	}
	os.Exit(apptest.Main(m))
}

var (
	requireORT  = apptest.RequireORT
	writeImages = apptest.WriteImages
)
