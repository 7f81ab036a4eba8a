package devtools

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/app/internal/apptest"
)

func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }

// runCLI runs one of the developer tools' commands.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd, rest := cli.Find(Commands(), args)
	if cmd == nil {
		t.Fatalf("no command %v", args)
	}
	code := cmd.Exec(rest, &out, &errb)
	return code, out.String(), errb.String()
}

// importInto imports paths into the library at lib with the default model.
func importInto(t *testing.T, lib string, paths ...string) {
	t.Helper()
	s, err := cli.Open(&cli.Common{Library: lib, Provider: "cpu"}, os.Stderr, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Import(context.Background(), paths, nil)
	if err != nil || len(rep.Failed) > 0 {
		t.Fatalf("import: %v %+v", err, rep.Failed)
	}
}
