// Package adapt is `m3ret adapt`: continued self-supervised training of a
// library's model on the library's own items (SimDINO with the MAE loss
// kept on, as `make train` trains its stage 2; on the GPU when PyTorch sees
// one), the new model written into the library's models folder, and the
// figures of `m3ret eval --perturb` (and by label, when labels are given)
// before and after. Switching the library to the new model is the
// caller's choice (see Switch).
//
// The training runs the PyTorch scripts embedded in the program
// (inference/train), written into a scratch folder inside the library with
// the arrays made from its items (the Go readers and preprocessing, as
// `make train` makes them): nothing of the library's content is written
// outside its folder, and the scratch folder is removed when the run ends,
// cancelled or not.
package adapt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/devtools"
	"github.com/m3ret/viewer/inference/train"
)

// Options of one adaptation.
type Options struct {
	Minutes   float64           // training budget, wall-clock
	Steps     int               // at most this many training steps (0: the budget alone)
	Items     int               // at most this many items train (a seeded sample of them beyond)
	EvalItems int               // at most this many of those are scored before and after
	Labels    map[string]string // item path -> label, for the figures by label (nil: none)
	Seed      uint64
	Python    string    // the interpreter with PyTorch (FindPython)
	Log       io.Writer // the trainer's own lines (loss curves, warnings)
	Notes     io.Writer // the library's notes, items left out
	// Stage, when not nil, gives the progress callback of each stage
	// ("reading items", "training", "scoring the new model").
	Stage func(name string) func(done, total int)
}

// Result is what an adaptation made and measured.
type Result struct {
	From     string          `json:"from"`     // the id of the model adapted
	Model    string          `json:"model"`    // the id of the new one
	Name     string          `json:"name"`     // its name
	Manifest string          `json:"manifest"` // its manifest, in the library's models folder
	Device   string          `json:"device"`   // what PyTorch trained on: cpu or cuda
	Torch    string          `json:"torch"`    // PyTorch's version
	Items    int             `json:"items"`    // items trained on
	Arrays   int             `json:"arrays"`   // training arrays made from them
	Failed   int             `json:"failed"`   // items that could not be read (left out)
	Steps    int             `json:"steps"`    // training steps run
	Seconds  float64         `json:"seconds"`  // of training
	Before   devtools.Scores `json:"before"`
	After    devtools.Scores `json:"after"`
	Log      string          `json:"log"`                // the training log (loss curves), beside the model
	Accepted *Switched       `json:"accepted,omitempty"` // set by the caller that switched
	current  *modelFiles     // the model adapted
}

// Defaults for the options left zero.
const (
	DefaultItems     = 1000
	DefaultEvalItems = 500
	// arraySize, arrayFrames, arraySlices: the arrays made for training, as
	// `make train` makes them (fewer slices of each volume, so that a
	// thousand volumes fit in memory).
	arraySize, arrayFrames, arraySlices = 128, 16, 8
	// recoveredTolerance: how far the weights read back from an ONNX file
	// may take the embedding from ONNX Runtime's.
	recoveredTolerance = 1e-4
)

// Run adapts the model of the library c names (c.Library; its model as
// the library records it, or c.Model) on the library's own items and
// writes the new model into the library's models folder; it does not
// switch the library to it. The library is read while items are read and
// scored, and left to others while the model trains.
func Run(ctx context.Context, c *cli.Common, o Options) (*Result, error) {
	o = withDefaults(o)
	device, version, err := CheckTorch(ctx, o.Python)
	if err != nil {
		return nil, err
	}
	res := &Result{Device: device, Torch: version}
	ws, chosen, err := prepare(ctx, c, o, res)
	if err != nil {
		return nil, err
	}
	defer ws.remove()
	if err := trainModel(ctx, ws, o, res); err != nil {
		return res, err
	}
	if err := install(ws, c.Library, res); err != nil {
		return res, err
	}
	after, err := scoreModel(ctx, c, res.Manifest, chosen, o)
	if err != nil {
		return res, fmt.Errorf("score the new model: %w", err)
	}
	res.After = after
	return res, nil
}

func withDefaults(o Options) Options {
	if o.Items <= 0 {
		o.Items = DefaultItems
	}
	if o.EvalItems <= 0 {
		o.EvalItems = DefaultEvalItems
	}
	if o.Python == "" {
		o.Python = FindPython()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Notes == nil {
		o.Notes = io.Discard
	}
	return o
}

func (o Options) stage(name string) func(done, total int) {
	if o.Stage == nil {
		return nil
	}
	return o.Stage(name)
}

// prepare opens the library to read, makes the scratch folder, reads the
// current model's weights back (checked against ONNX Runtime), writes the
// training arrays and scores the current model; the library is closed
// again when it returns. It returns the items scored.
func prepare(ctx context.Context, c *cli.Common, o Options, res *Result) (*workspace, []chosenItem, error) {
	s, err := openRead(c, o.Notes)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	lasts := 2*time.Duration(o.Minutes*float64(time.Minute)) + 24*time.Hour
	ws, err := newWorkspace(s.Library().Dir(), lasts)
	if err != nil {
		return nil, nil, err
	}
	chosen, err := prepareIn(ctx, s, c, ws, o, res)
	if err != nil {
		ws.remove()
		return nil, nil, err
	}
	return ws, chosen, nil
}

func prepareIn(ctx context.Context, s *cli.Session, c *cli.Common, ws *workspace, o Options, res *Result) ([]chosenItem, error) {
	if err := train.WriteScripts(ws.path("scripts")); err != nil {
		return nil, err
	}
	cur, err := currentModel(c.Model, s.Enc)
	if err != nil {
		return nil, err
	}
	res.From, res.current = s.Enc.ModelID(), cur
	if err := recoverWeights(ctx, ws, o, cur, s.Enc); err != nil {
		return nil, err
	}
	chosen, err := chooseItems(s.Library(), o)
	if err != nil {
		return nil, err
	}
	before, err := readItems(ctx, s, ws, chosen, o, res)
	if err != nil {
		return nil, err
	}
	res.Before = before
	return chosen, nil
}

// trainModel runs the training script on the arrays.
func trainModel(ctx context.Context, ws *workspace, o Options, res *Result) error {
	res.Name = modelName(ws, time.Now())
	args := []string{train.AdaptScript, "train", "--data", ws.path("data"), "--init", ws.path("init", "init.pt"),
		"--template", ws.path("init", "current.json"), "--out", ws.path("out"), "--name", res.Name,
		"--from", res.From, "--minutes", fmt.Sprint(o.Minutes), "--seed", fmt.Sprint(o.Seed % (1 << 31))}
	if o.Steps > 0 {
		args = append(args, "--steps", fmt.Sprint(o.Steps))
	}
	err := runScript(ctx, o.Python, ws.path("scripts"), args, o.Log, o.stage("training"))
	if err != nil {
		return fmt.Errorf("training: %w", err)
	}
	return readTrainingLog(ws.path("out", res.Name+".log.json"), res)
}

// Cancelled reports whether err is the run being stopped (Ctrl-C).
func Cancelled(err error) bool {
	return errors.Is(err, context.Canceled)
}

// ModelsDir is the folder of the library's adapted models.
func ModelsDir(libDir string) string { return cli.LibraryModelsDir(libDir) }

// logPath is where the training log of model name lies beside it.
func logPath(libDir, name string) string { return filepath.Join(ModelsDir(libDir), name+".log.json") }
