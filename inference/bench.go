package inference

import (
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/m3ret/viewer/library/media"
)

//go:embed twin/torch_twin.py
var torchTwin []byte

// KindBench is the end-to-end speed (preprocessing and model) for one kind
// of input.
type KindBench struct {
	Kind      string  `json:"kind"`
	Input     string  `json:"input"`
	Items     int     `json:"items"`
	Seconds   float64 `json:"seconds"`
	ItemsPerS float64 `json:"items_per_s"`
}

// TwinBench compares ONNX Runtime with the model's PyTorch twin (eager
// mode) on identical input tensors, in the same run.
type TwinBench struct {
	Batch          int     `json:"batch"`
	Threads        int     `json:"threads"`
	ORTItemsPerS   float64 `json:"ort_items_per_s"`
	TorchItemsPerS float64 `json:"torch_items_per_s,omitempty"`
	Ratio          float64 `json:"ratio_ort_over_torch,omitempty"`
	FLOPsPerItem   float64 `json:"flops_per_item,omitempty"`
	AchievedFLOPS  float64 `json:"achieved_flop_per_s,omitempty"`
	MaxAbsDiff     float64 `json:"max_abs_diff,omitempty"`
	TorchError     string  `json:"torch_error,omitempty"`
}

// BenchReport is what `m3ret bench embed` prints.
type BenchReport struct {
	Model    string      `json:"model"`
	Provider string      `json:"provider"`
	CPUs     int         `json:"cpus"`
	Kinds    []KindBench `json:"kinds"`
	Twin     TwinBench   `json:"twin"`
	Note     string      `json:"note"`
}

// benchInputs are synthetic inputs of realistic sizes (speed does not
// depend on content): a 512×512 MR slice, a 256×256×64 CT volume, a
// 320×240 RGB endoscopy clip of 48 frames.
var benchInputs = []struct {
	kind                   media.Kind
	modality, input        string
	w, h, frames, channels int
	n                      int
}{
	{media.Image2D, "MR", "512x512 grey", 512, 512, 1, 1, 64},
	{media.Volume, "CT", "256x256x64 grey", 256, 256, 64, 1, 16},
	{media.Video, "ES", "320x240x48 RGB", 320, 240, 48, 3, 16},
}

func synthSample(r *rand.Rand, kind media.Kind, modality string, w, h, frames, channels int) media.Sample {
	s := media.Sample{Kind: kind, Width: w, Height: h, Frames: frames, Channels: channels, Meta: media.Meta{Modality: modality}}
	s.Data = make([]float32, w*h*frames*channels)
	fx, fy := r.Float64()*0.2, r.Float64()*0.2
	for i := range s.Data {
		x, y := (i/channels)%w, (i/channels/w)%h
		s.Data[i] = float32(500*math.Sin(fx*float64(x))*math.Cos(fy*float64(y)) + 50*r.NormFloat64())
	}
	return s
}

// Bench measures embedding speed per kind of input, then ONNX Runtime
// against the PyTorch twin (python: the interpreter with torch and onnx;
// "" skips the twin) on the same batch of tensors.
func (e *Encoder) Bench(ctx context.Context, python string, scale float64) (*BenchReport, error) {
	rep := &BenchReport{Model: e.ModelID(), Provider: strings.ToUpper(e.provider), CPUs: runtime.NumCPU(),
		Note: "synthetic inputs of clinical sizes; speed does not depend on content"}
	r := rand.New(rand.NewPCG(42, 1))
	var twinBatch []media.Sample
	for _, in := range benchInputs {
		n := max(1, int(float64(in.n)*scale))
		samples := make([]media.Sample, n)
		for i := range samples {
			samples[i] = synthSample(r, in.kind, in.modality, in.w, in.h, in.frames, in.channels)
		}
		if in.kind == media.Image2D {
			twinBatch = samples[:min(n, e.m.BatchSize)]
		}
		items, t0 := 0, time.Now()
		for items == 0 || time.Since(t0) < time.Second { // at least a second per kind
			if _, err := e.Embed(ctx, samples); err != nil {
				return nil, err
			}
			items += n
		}
		dt := time.Since(t0).Seconds()
		rep.Kinds = append(rep.Kinds, KindBench{Kind: string(in.kind), Input: in.input, Items: items, Seconds: dt, ItemsPerS: float64(items) / dt})
	}
	twin, err := e.benchTwin(ctx, twinBatch, python)
	if err != nil {
		return nil, err
	}
	rep.Twin = *twin
	return rep, nil
}

// benchTwin times ORT on one preprocessed batch, then runs the twin script
// on the same tensor.
func (e *Encoder) benchTwin(ctx context.Context, batch []media.Sample, python string) (*TwinBench, error) {
	data := e.tensor(batch)
	b := len(batch)
	tw := &TwinBench{Batch: b, Threads: runtime.NumCPU()}
	out, err := e.runTensor(data, b)
	if err != nil {
		return nil, err
	}
	reps, t0 := 0, time.Now()
	for time.Since(t0) < time.Second || reps < 5 {
		if _, err := e.runTensor(data, b); err != nil {
			return nil, err
		}
		reps++
	}
	tw.ORTItemsPerS = float64(reps*b) / time.Since(t0).Seconds()
	if python == "" {
		tw.TorchError = "skipped"
		return tw, nil
	}
	res, err := e.runTwin(ctx, python, data, b, out, max(3, reps/4))
	if err != nil {
		tw.TorchError = err.Error()
		return tw, nil
	}
	tw.TorchItemsPerS, tw.FLOPsPerItem, tw.MaxAbsDiff = res.ItemsPerS, res.FLOPsPerItem, res.MaxAbsDiff
	tw.Ratio = tw.ORTItemsPerS / tw.TorchItemsPerS
	tw.AchievedFLOPS = tw.FLOPsPerItem * tw.ORTItemsPerS
	return tw, nil
}

type twinResult struct {
	ItemsPerS    float64 `json:"items_per_s"`
	FLOPsPerItem float64 `json:"flops_per_item"`
	MaxAbsDiff   float64 `json:"max_abs_diff"`
	Error        string  `json:"error"`
}

func (e *Encoder) runTwin(ctx context.Context, python string, data []float32, b int, out [][]float32, reps int) (*twinResult, error) {
	dir, err := os.MkdirTemp("", "m3ret-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var flat []float32
	for _, v := range out {
		flat = append(flat, v...)
	}
	files := map[string][]byte{"twin.py": torchTwin, "model.onnx": e.model, "x.f32": f32bytes(data), "ort.f32": f32bytes(flat)}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			return nil, err
		}
	}
	shape := []string{strconv.Itoa(b)}
	for _, d := range e.m.Input.Shape[1:] {
		shape = append(shape, strconv.FormatInt(d, 10))
	}
	cmd := exec.CommandContext(ctx, python, filepath.Join(dir, "twin.py"), filepath.Join(dir, "model.onnx"), e.m.Input.Name,
		filepath.Join(dir, "x.f32"), strings.Join(shape, ","), filepath.Join(dir, "ort.f32"), strconv.Itoa(reps), strconv.Itoa(runtime.NumCPU()))
	stdout, err := cmd.Output()
	var res twinResult
	if jerr := json.Unmarshal(stdout, &res); jerr == nil && res.Error != "" {
		return nil, fmt.Errorf("pytorch twin: %s", res.Error)
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			return nil, fmt.Errorf("pytorch twin (%s): %s", python, lines[len(lines)-1])
		}
		return nil, fmt.Errorf("pytorch twin (%s): %w", python, err)
	}
	if err := json.Unmarshal(stdout, &res); err != nil {
		return nil, fmt.Errorf("pytorch twin output: %w", err)
	}
	return &res, nil
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
