package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuietLocale runs `m3ret info` in a fresh process under the locales
// scripts, cron and CI run with: nothing may reach stderr (Fyne used to
// print "Fyne error: Error parsing user locale C" there).
func TestQuietLocale(t *testing.T) {
	requireORT(t)
	lib := filepath.Join(t.TempDir(), "lib")
	for _, lang := range []string{"C", "C.UTF-8", "POSIX", ""} {
		t.Run("LANG="+lang, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(withoutLocale(os.Environ()), runMainEnv+"=info\n--library\n"+lib, "LANG="+lang)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			if stderr.Len() != 0 || !strings.Contains(stdout.String(), "M3Ret Viewer") {
				t.Fatalf("stderr %q, stdout %q", stderr.String(), stdout.String())
			}
		})
	}
}

// withoutLocale drops the locale variables from an environment.
func withoutLocale(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", runMainEnv:
			continue
		}
		out = append(out, kv)
	}
	return out
}
