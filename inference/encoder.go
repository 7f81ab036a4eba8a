package inference

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/m3ret/viewer/library/media"
)

// Options choose how a model runs.
type Options struct {
	// Provider forces an execution provider ("cuda", "tensorrt", "directml",
	// "coreml", "cpu"); "" or "auto" tries the platform's best first.
	Provider string
	// Threads bounds intra-op threads on CPU (0: ORT's default).
	Threads int
}

// Encoder embeds samples with one ORT session. It is safe for concurrent
// use.
type Encoder struct {
	m        *Manifest
	model    []byte // the ONNX file, for the PyTorch twin of the benchmark
	sess     *ort.DynamicAdvancedSession
	provider string
	notes    map[string]string // provider -> why it is not in use
}

// Load starts a session for an ONNX model described by manifest, after
// checking the model's sha256 and its input and output against the manifest.
func Load(manifest, model []byte, opts Options) (*Encoder, error) {
	m, err := ParseManifest(manifest)
	if err != nil {
		return nil, err
	}
	if err := m.VerifyFile(model); err != nil {
		return nil, err
	}
	if err := checkIO(m, model); err != nil {
		return nil, err
	}
	e := &Encoder{m: m, model: model, notes: map[string]string{}}
	for _, p := range providerOrder(opts.Provider) {
		sess, err := newSession(m, model, p, opts.Threads)
		if err != nil {
			e.notes[p] = err.Error()
			continue
		}
		e.sess, e.provider = sess, p
		return e, nil
	}
	return nil, fmt.Errorf("start model %s: %s", m.Name, e.notes["cpu"])
}

// LoadFile loads a model from disk: path is the manifest (.json) or the
// .onnx file with its manifest beside it (same name, .json).
func LoadFile(path string, opts Options) (*Encoder, error) {
	manifestPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".json"
	mdata, err := os.ReadFile(manifestPath)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := ParseManifest(mdata)
	if err != nil {
		return nil, err
	}
	file := m.File
	if file == "" {
		file = filepath.Base(strings.TrimSuffix(manifestPath, ".json") + ".onnx")
	}
	model, err := os.ReadFile(filepath.Join(filepath.Dir(manifestPath), filepath.Base(file)))
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	return Load(mdata, model, opts)
}

func checkIO(m *Manifest, model []byte) error {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return fmt.Errorf("read model %s: %w", m.Name, err)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("model %s: %s: %w", m.Name, fmt.Sprintf(format, a...), ErrManifest)
	}
	if len(ins) != 1 || ins[0].Name != m.Input.Name {
		return bad("graph inputs %v, manifest says %q", ioNames(ins), m.Input.Name)
	}
	if len(outs) < 1 || outs[0].Name != m.Output.Name {
		return bad("graph outputs %v, manifest says %q", ioNames(outs), m.Output.Name)
	}
	dims := ins[0].Dimensions
	if len(dims) != 5 {
		return bad("graph input has shape %v, manifest says %v", dims, m.Input.Shape)
	}
	for i := 1; i < 5; i++ {
		if dims[i] > 0 && dims[i] != m.Input.Shape[i] {
			return bad("graph input has shape %v, manifest says %v", dims, m.Input.Shape)
		}
	}
	od := outs[0].Dimensions
	if len(od) != 2 || (od[1] > 0 && od[1] != int64(m.Output.Dim)) {
		return bad("graph output has shape %v, manifest says dim %d", od, m.Output.Dim)
	}
	return nil
}

func ioNames(infos []ort.InputOutputInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.Name)
	}
	return out
}

// Manifest returns the model's manifest.
func (e *Encoder) Manifest() *Manifest { return e.m }

// ModelID identifies the embedding space (see Manifest.ID).
func (e *Encoder) ModelID() string { return e.m.ID() }

// BatchSize is the number of samples the model runs at once (the
// manifest's); the library batches its imports by it.
func (e *Encoder) BatchSize() int { return e.m.BatchSize }

// Dim is the embedding length.
func (e *Encoder) Dim() int { return e.m.Output.Dim }

// Provider is the execution provider in use ("cpu", "cuda", ...).
func (e *Encoder) Provider() string { return e.provider }

// ProviderNotes says, for each provider tried and not used, why.
func (e *Encoder) ProviderNotes() map[string]string { return e.notes }

// Embed returns one L2-normalised embedding per sample, running the model in
// batches of the manifest's batch size.
func (e *Encoder) Embed(ctx context.Context, samples []media.Sample) ([][]float32, error) {
	out := make([][]float32, 0, len(samples))
	for start := 0; start < len(samples); start += e.m.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+e.m.BatchSize, len(samples))
		vecs, err := e.run(ctx, samples[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// window is input w of n of sample i (see Windows).
type window struct{ i, w, n int }

// run embeds a batch of samples: each as one input, or, where the manifest
// averages a kind, as several whose embeddings are averaged and normalised.
// The inputs run in batches of the manifest's batch size.
func (e *Encoder) run(ctx context.Context, batch []media.Sample) ([][]float32, error) {
	var wins []window
	for i := range batch {
		n := Windows(&batch[i], e.m)
		for w := range n {
			wins = append(wins, window{i, w, n})
		}
	}
	if len(wins) == len(batch) {
		return e.runTensor(e.tensor(batch), len(batch))
	}
	avg := newAverager(len(batch))
	for start := 0; start < len(wins); start += e.m.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := wins[start:min(start+e.m.BatchSize, len(wins))]
		vecs, err := e.runTensor(e.windowTensor(batch, chunk), len(chunk))
		if err != nil {
			return nil, err
		}
		for k, win := range chunk {
			avg.add(win, vecs[k])
		}
	}
	return avg.result(), nil
}

// averager sums the embeddings of each sample's inputs.
type averager struct {
	out  [][]float32
	sums [][]float64
}

func newAverager(n int) *averager {
	return &averager{out: make([][]float32, n), sums: make([][]float64, n)}
}

// add takes the embedding of one input; a sample of one input keeps it as
// the model returned it, as in a batch without averaging.
func (a *averager) add(win window, v []float32) {
	if win.n == 1 {
		a.out[win.i] = v
		return
	}
	if a.sums[win.i] == nil {
		a.sums[win.i] = make([]float64, len(v))
	}
	for j, x := range v {
		a.sums[win.i][j] += float64(x)
	}
}

// result is one embedding per sample, the sums normalised.
func (a *averager) result() [][]float32 {
	for i, sum := range a.sums {
		if sum == nil {
			continue
		}
		a.out[i] = make([]float32, len(sum))
		for j, x := range sum {
			a.out[i][j] = float32(x)
		}
		Normalize(a.out[i])
	}
	return a.out
}

// windowTensor preprocesses the given inputs of batch into the model's
// input, one input per CPU at a time.
func (e *Encoder) windowTensor(batch []media.Sample, wins []window) []float32 {
	per := e.m.C() * e.m.T() * e.m.H() * e.m.W()
	data := make([]float32, per*len(wins))
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for k, win := range wins {
		g.Go(func() error {
			copy(data[k*per:(k+1)*per], PreprocessWindow(&batch[win.i], e.m, win.w, win.n))
			return nil
		})
	}
	_ = g.Wait()
	return data
}

// tensor preprocesses a batch into the model's input, [B, C, T, H, W],
// one sample per CPU at a time.
func (e *Encoder) tensor(batch []media.Sample) []float32 {
	per := e.m.C() * e.m.T() * e.m.H() * e.m.W()
	data := make([]float32, per*len(batch))
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i := range batch {
		g.Go(func() error {
			copy(data[i*per:(i+1)*per], Preprocess(&batch[i], e.m))
			return nil
		})
	}
	_ = g.Wait()
	return data
}

// EmbedTensor runs the model on an input already in its [B, C, T, H, W]
// layout (b items, no preprocessing): to compare it with another
// implementation of the same network on the same numbers (m3ret adapt
// checks the PyTorch weights it read back from the ONNX file this way).
func (e *Encoder) EmbedTensor(data []float32, b int) ([][]float32, error) {
	if want := b * e.m.C() * e.m.T() * e.m.H() * e.m.W(); len(data) != want {
		return nil, fmt.Errorf("model %s: input of %d values, want %d", e.m.Name, len(data), want)
	}
	return e.runTensor(data, b)
}

// runTensor runs the model on a ready input tensor of b items.
func (e *Encoder) runTensor(data []float32, b int) ([][]float32, error) {
	shape := ort.NewShape(int64(b), e.m.Input.Shape[1], e.m.Input.Shape[2], e.m.Input.Shape[3], e.m.Input.Shape[4])
	in, err := ort.NewTensor(shape, data)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := e.sess.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("run model %s: %w", e.m.Name, err)
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("model %s: output is not a float32 tensor", e.m.Name)
	}
	flat, dim := t.GetData(), e.m.Output.Dim
	if len(flat) != dim*b {
		return nil, fmt.Errorf("model %s: output has %d values, want %d: %w", e.m.Name, len(flat), dim*b, ErrManifest)
	}
	vecs := make([][]float32, b)
	for i := range vecs {
		vecs[i] = Normalize(append([]float32(nil), flat[i*dim:(i+1)*dim]...))
	}
	return vecs, nil
}

// Normalize scales v to unit length in place (a zero vector stays zero).
func Normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// Close ends the session.
func (e *Encoder) Close() error { return e.sess.Destroy() }
