package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindLongestName(t *testing.T) {
	table := []Command{{Name: "bench"}, {Name: "bench embed"}, {Name: "import"}}
	tests := []struct {
		args []string
		want string
		rest string
	}{
		{[]string{"bench", "embed", "--json"}, "bench embed", "--json"},
		{[]string{"bench", "--x"}, "bench", "--x"},
		{[]string{"import", "a", "b"}, "import", "a b"},
		{[]string{"imports"}, "", ""},
		{nil, "", ""},
	}
	for _, tc := range tests {
		cmd, rest := Find(table, tc.args)
		got := ""
		if cmd != nil {
			got = cmd.Name
		}
		if got != tc.want || strings.Join(rest, " ") != tc.rest {
			t.Errorf("Find(%v) = %q %v, want %q %q", tc.args, got, rest, tc.want, tc.rest)
		}
	}
}

func TestExecParsesAndChecks(t *testing.T) {
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "settings.json"))
	var k int
	var ran *Env
	cmd := Command{Name: "query", Args: "PATH",
		Flags: func(fs *flag.FlagSet) { fs.IntVar(&k, "k", 10, "") },
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 1 },
		Run:   func(e *Env) int { ran = e; return ExitOK }}
	var stderr bytes.Buffer
	if code := cmd.Exec([]string{"x.dcm", "--k", "3", "--json", "--library", "/l"}, io.Discard, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if k != 3 || ran == nil || !ran.JSON || ran.Library != "/l" || strings.Join(ran.Args, ",") != "x.dcm" {
		t.Fatalf("k %d, env %+v", k, ran)
	}
	stderr.Reset()
	if code := cmd.Exec(nil, io.Discard, &stderr); code != ExitUsage || !strings.HasPrefix(stderr.String(), "usage: m3ret query PATH") {
		t.Fatalf("no path: exit %d, %q", code, stderr.String())
	}
}

// failingWriter fails every write, as a closed pipe or a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestOutputWriteFailureIsAnError(t *testing.T) {
	for _, asJSON := range []bool{true, false} {
		var stderr bytes.Buffer
		e := &Env{Common: Common{JSON: asJSON}, Stdout: failingWriter{}, Stderr: &stderr}
		code := e.Output(map[string]int{"n": 1}, func(w io.Writer) { io.WriteString(w, "n 1\n") })
		if code != ExitError || !strings.Contains(stderr.String(), "broken pipe") {
			t.Errorf("json %v: exit %d, stderr %q", asJSON, code, stderr.String())
		}
	}
}

func TestSettingsSaveLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m3ret", "settings.json")
	t.Setenv("M3RET_SETTINGS", p)
	want := Settings{Provider: "cpu", Library: "/data/lib"}
	if err := want.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings()
	if err != nil || got != want {
		t.Fatalf("loaded %+v %v", got, err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	if _, err := os.Stat(p + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}
}
