package adapt

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/inference/train"
)

// modelFiles are the files of the model being adapted.
type modelFiles struct {
	manifest, onnx []byte
	checkpoint     string // the PyTorch checkpoint adapt wrote beside it ("" for none)
}

// currentModel finds the files of the model the session runs (spec is the
// --model the session resolved: an embedded name, an added model, a path).
func currentModel(spec string, enc *inference.Encoder) (*modelFiles, error) {
	if man, onnx, err := assets.Model(spec); err == nil {
		return &modelFiles{manifest: man, onnx: onnx}, nil
	}
	if _, err := os.Stat(spec); err != nil {
		m, ok := cli.FindModel(spec)
		if !ok {
			return nil, fmt.Errorf("model %q: no files found", spec)
		}
		if m.Embedded {
			return currentModel(m.Name, enc)
		}
		spec = m.Path
	}
	manPath := strings.TrimSuffix(spec, filepath.Ext(spec)) + ".json"
	man, err := os.ReadFile(manPath)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	onnxPath := strings.TrimSuffix(manPath, ".json") + ".onnx"
	if m, err := inference.ParseManifest(man); err == nil && m.File != "" {
		onnxPath = filepath.Join(filepath.Dir(manPath), filepath.Base(m.File))
	}
	onnx, err := os.ReadFile(onnxPath)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if err := enc.Manifest().VerifyFile(onnx); err != nil {
		return nil, fmt.Errorf("the model file changed since it was loaded: %w", err)
	}
	f := &modelFiles{manifest: man, onnx: onnx}
	if pt := strings.TrimSuffix(onnxPath, filepath.Ext(onnxPath)) + ".pt"; fileExists(pt) {
		f.checkpoint = pt
	}
	return f, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// recoverWeights writes the current model into the scratch folder and has
// the script read its PyTorch weights back (from the checkpoint beside it,
// else from the ONNX file); the result must embed the fixed test input as
// ONNX Runtime does with the original file, or nothing is trained.
func recoverWeights(ctx context.Context, ws *workspace, o Options, cur *modelFiles, enc *inference.Encoder) error {
	for name, data := range map[string][]byte{"current.json": cur.manifest, "current.onnx": cur.onnx} {
		if err := os.WriteFile(ws.path("init", name), data, 0o600); err != nil {
			return err
		}
	}
	args := []string{train.AdaptScript, "prepare", "--onnx", ws.path("init", "current.onnx"),
		"--template", ws.path("init", "current.json"), "--out", ws.path("init")}
	if cur.checkpoint != "" {
		args = append(args, "--checkpoint", cur.checkpoint)
	}
	if err := runScript(ctx, o.Python, ws.path("scripts"), args, o.Log, nil); err != nil {
		return fmt.Errorf("read the model's weights: %w", err)
	}
	return checkRecovered(enc, ws.path("init", "init.reference.json"))
}

// checkRecovered compares the recovered model's output on the fixed
// input (export.py's lcg_input) with ONNX Runtime's on the same input.
func checkRecovered(enc *inference.Encoder, refPath string) error {
	data, err := os.ReadFile(refPath)
	if err != nil {
		return err
	}
	var ref struct {
		Shape     []int       `json:"shape"`
		Embedding [][]float64 `json:"embedding"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		return fmt.Errorf("recovered weights: %w", err)
	}
	if len(ref.Shape) == 0 {
		return fmt.Errorf("recovered weights: no input shape")
	}
	got, err := enc.EmbedTensor(lcgInput(ref.Shape), ref.Shape[0])
	if err != nil {
		return err
	}
	if worst := maxAbsDiff(got, ref.Embedding); worst > recoveredTolerance {
		return fmt.Errorf("%w: the PyTorch weights read back from it embed %.3g away from ONNX Runtime", ErrNotAdaptable, worst)
	}
	return nil
}

// lcgInput is export.py's lcg_input: x[i] = ((1664525 i + 1013904223) mod
// 2^32) / 2^32 over the flattened tensor.
func lcgInput(shape []int) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	x := make([]float32, n)
	for i := range x {
		v := (uint64(1664525)*uint64(i) + 1013904223) % (1 << 32)
		x[i] = float32(float64(v) / float64(1<<32))
	}
	return x
}

func maxAbsDiff(got [][]float32, want [][]float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return math.Inf(1)
		}
		for j, w := range want[i] {
			worst = math.Max(worst, math.Abs(float64(got[i][j])-w))
		}
	}
	return worst
}

// modelName is adapted-YYYYMMDD-HHMM, with -2, -3... when the library's
// models folder has that name already.
func modelName(ws *workspace, now time.Time) string {
	dir := ModelsDir(filepath.Dir(ws.dir))
	base := "adapted-" + now.Format("20060102-1504")
	name := base
	for i := 2; fileExists(filepath.Join(dir, name+".json")) || fileExists(filepath.Join(dir, name+".onnx")); i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

// modelSuffixes are the files of an adapted model in the models folder.
var modelSuffixes = []string{".onnx", ".pt", ".log.json", ".json"} // the manifest last: a model is there once it is

// install copies the new model from the scratch folder into the library's
// models folder (readable by the user alone: it learnt from the library's
// images) and fills in its id.
func install(ws *workspace, libDir string, res *Result) error {
	dir := ModelsDir(libDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("models folder: %w", err)
	}
	for _, suf := range modelSuffixes {
		data, err := os.ReadFile(ws.path("out", res.Name+suf))
		if err != nil {
			return fmt.Errorf("the trainer left no %s: %w", res.Name+suf, err)
		}
		if err := os.WriteFile(filepath.Join(dir, res.Name+suf), data, 0o600); err != nil {
			return fmt.Errorf("install model: %w", err)
		}
	}
	res.Manifest, res.Log = filepath.Join(dir, res.Name+".json"), logPath(libDir, res.Name)
	data, err := os.ReadFile(res.Manifest)
	if err != nil {
		return err
	}
	m, err := inference.ParseManifest(data)
	if err != nil {
		return fmt.Errorf("the new model's manifest: %w", err)
	}
	res.Model = m.ID()
	return nil
}

// readTrainingLog fills in what the trainer did.
func readTrainingLog(path string, res *Result) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("training log: %w", err)
	}
	var log struct {
		Steps   int     `json:"train_steps"`
		Seconds float64 `json:"train_seconds"`
		Device  string  `json:"device"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		return fmt.Errorf("training log: %w", err)
	}
	res.Steps, res.Seconds = log.Steps, log.Seconds
	if log.Device != "" {
		res.Device = log.Device
	}
	return nil
}
