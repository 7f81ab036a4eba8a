package adapt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m3ret/viewer/app/internal/apptest"
	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/inference"
)

func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }

// fakePython writes a shell script standing in for the interpreter.
func fakePython(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindPython(t *testing.T) {
	t.Setenv(PythonEnv, "/opt/py/bin/python3")
	if got := FindPython(); got != "/opt/py/bin/python3" {
		t.Errorf("with %s set: %s", PythonEnv, got)
	}
	t.Setenv(PythonEnv, "")
	if _, err := os.Stat(DefaultPython); err == nil && FindPython() != DefaultPython {
		t.Errorf("without %s: %s, want %s first", PythonEnv, FindPython(), DefaultPython)
	}
}

// TestCheckTorchMissing: a Python without PyTorch is ErrNoTorch, saying
// exactly what to install.
func TestCheckTorchMissing(t *testing.T) {
	py := fakePython(t, `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`)
	_, _, err := CheckTorch(context.Background(), py)
	if !errors.Is(err, ErrNoTorch) {
		t.Fatalf("err = %v, want ErrNoTorch", err)
	}
	for _, want := range []string{"No module named 'torch'", "sudo apt-get install python3-torch python3-onnx python3-numpy", "pip install torch onnx numpy", PythonEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	if _, _, err := CheckTorch(context.Background(), filepath.Join(t.TempDir(), "none")); !errors.Is(err, ErrNoTorch) {
		t.Errorf("no interpreter at all: %v", err)
	}
	dev, ver, err := CheckTorch(context.Background(), fakePython(t, `echo "cuda 2.4.1"`))
	if err != nil || dev != "cuda" || ver != "2.4.1" {
		t.Errorf("with torch: %q %q %v", dev, ver, err)
	}
}

func TestRunScript(t *testing.T) {
	cases := []struct {
		name, body string
		want       error
		tail       string
		progress   int
	}{
		{"ok", `echo step 10 20; echo progress 5 10; echo progress 10 10`, nil, "", 2},
		{"fails", `echo "Traceback" >&2; echo "RuntimeError: out of memory" >&2; exit 1`, nil, "RuntimeError: out of memory", 0},
		{"not ours", `echo "adapt: this model cannot be adapted: no ViT" >&2; exit 3`, ErrNotAdaptable, "no ViT", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log strings.Builder
			n := 0
			err := runScript(context.Background(), fakePython(t, c.body), t.TempDir(), []string{"adapt.py"}, &log,
				func(done, total int) { n++ })
			switch {
			case c.tail == "" && err != nil:
				t.Fatalf("err = %v", err)
			case c.tail != "" && (err == nil || !strings.Contains(err.Error(), c.tail)):
				t.Fatalf("err = %v, want one with %q", err, c.tail)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if n != c.progress || strings.Contains(log.String(), "progress") || c.name == "ok" && !strings.Contains(log.String(), "step 10 20") {
				t.Errorf("%d progress calls (want %d); log %q", n, c.progress, log.String())
			}
		})
	}
}

// TestRunScriptCancel: cancelling the context stops the child at once.
func TestRunScriptCancel(t *testing.T) {
	py := fakePython(t, `echo progress 1 10; exec sleep 60`)
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	err := runScript(ctx, py, t.TempDir(), []string{"adapt.py"}, &strings.Builder{}, func(done, total int) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v to stop", d)
	}
}

func TestRemoveExpired(t *testing.T) {
	lib := t.TempDir()
	now := time.Now()
	mk := func(name, expires string, age time.Duration) string {
		dir := filepath.Join(lib, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if expires != "" {
			os.WriteFile(filepath.Join(dir, expiresFile), []byte(expires), 0o600)
		}
		os.Chtimes(dir, now.Add(-age), now.Add(-age))
		return dir
	}
	cases := []struct {
		dir  string
		kept bool
	}{
		{mk(workspacePrefix+"1", now.Add(-time.Minute).UTC().Format(time.RFC3339), 0), false},
		{mk(workspacePrefix+"2", now.Add(time.Hour).UTC().Format(time.RFC3339), 0), true},
		{mk(workspacePrefix+"3", "", 48*time.Hour), false},
		{mk(workspacePrefix+"4", "", time.Minute), true},
		{mk("models", now.Add(-time.Hour).UTC().Format(time.RFC3339), 48*time.Hour), true},
	}
	removeExpired(lib, now)
	for _, c := range cases {
		if _, err := os.Stat(c.dir); (err == nil) != c.kept {
			t.Errorf("%s: kept %v, want %v", filepath.Base(c.dir), err == nil, c.kept)
		}
	}
	ws, err := newWorkspace(lib, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(ws.dir); err != nil || st.Mode().Perm() != 0o700 || filepath.Dir(ws.dir) != lib {
		t.Fatalf("scratch folder %s: %v %v", ws.dir, st.Mode(), err)
	}
	if err := ws.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ws.dir); !os.IsNotExist(err) {
		t.Fatalf("scratch folder left: %v", err)
	}
}

// TestCheckRecovered: the PyTorch output export.py recorded for the
// shipped model passes the check against ONNX Runtime; one changed value
// does not.
func TestCheckRecovered(t *testing.T) {
	apptest.RequireORT(t)
	man, onnx, err := assets.Model("m3ret-vit")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := inference.Load(man, onnx, inference.Options{Provider: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	ref := "../../inference/train/testdata/m3ret-vit.reference.json"
	if err := checkRecovered(enc, ref); err != nil {
		t.Fatalf("shipped reference: %v", err)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, `"embedding": [[`) + len(`"embedding": [[`)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(s[:i]+"0.5, "+s[strings.Index(s[i:], ",")+i+2:]), 0o600)
	if err := checkRecovered(enc, bad); !errors.Is(err, ErrNotAdaptable) {
		t.Fatalf("a changed value: err = %v, want ErrNotAdaptable", err)
	}
}
