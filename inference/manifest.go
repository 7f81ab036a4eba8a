// Package inference runs the image encoder: it finds and starts the ONNX
// Runtime shared library, loads a model with its manifest (verifying the
// file's sha256 and the graph's input and output against the manifest),
// chooses an execution provider with a CPU fallback, turns media samples into
// the model's [B, C, T, H, W] tensor and embeds them in batches.
//
// It never imports Fyne; the library sees it only through its Embedder
// interface.
package inference

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrManifest is wrapped by every manifest and model-contract error.
var ErrManifest = errors.New("model does not match its manifest")

// Manifest describes a model file: see ARCHITECTURE.md, "The model contract".
type Manifest struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
	Description string `json:"description,omitempty"`
	Licence     string `json:"licence,omitempty"`
	Input       struct {
		Name  string  `json:"name"`
		Shape []int64 `json:"shape"` // [B, C, T, H, W]; B = -1 (dynamic)
	} `json:"input"`
	Output struct {
		Name string `json:"name"`
		Dim  int    `json:"dim"`
	} `json:"output"`
	BatchSize     int                      `json:"batch_size"`
	Normalisation map[string]Normalisation `json:"normalisation"`
	// TimeMapping says how each kind fills T: image2d "repeat" (the frame
	// repeated) or "pad" (zeros after the frame); volume and video
	// "resample" (linear along the acquisition axis or time), "even"
	// (the nearest frames at even steps) or "central" (as even, over the
	// middle half of the stack only, widened to the frames needed when the
	// half holds fewer). Unset: volume "resample", video "even".
	TimeMapping map[string]string `json:"time_mapping"`
	// AverageFrames lets a model of single frames serve volumes and videos:
	// for a kind ("volume", "video") it is N, and an item of that kind is
	// embedded as N inputs instead of one (N·T frames chosen by the time
	// mapping, cut into N runs of T), the N embeddings averaged and
	// L2-normalised. Fewer inputs when the item has fewer than N·T frames.
	AverageFrames map[string]int `json:"average_frames,omitempty"`
}

// MaxAverageFrames bounds AverageFrames: an item costs that many runs.
const MaxAverageFrames = 64

// timeModes are the TimeMapping values each kind accepts.
var timeModes = map[string][]string{
	"image2d": {"repeat", "pad"},
	"volume":  {"resample", "even", "central"},
	"video":   {"resample", "even", "central"},
}

// Normalisation maps stored values to the model's input range. Method is
// "window" (Center/Width to [0, 1]), "percentile" (Low..High percentiles to
// [0, 1]) or "meanstd" (RGB in [0, 1], then (x - Mean) / Std per channel).
type Normalisation struct {
	Method string    `json:"method"`
	Center float64   `json:"center,omitempty"`
	Width  float64   `json:"width,omitempty"`
	Low    float64   `json:"low,omitempty"`
	High   float64   `json:"high,omitempty"`
	Mean   []float64 `json:"mean,omitempty"`
	Std    []float64 `json:"std,omitempty"`
}

// ParseManifest reads and checks a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	return &m, m.check()
}

func (m *Manifest) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("manifest %q: %s: %w", m.Name, fmt.Sprintf(format, a...), ErrManifest)
	}
	switch {
	case m.Name == "" || m.Version == "":
		return bad("name and version are required")
	case len(m.Input.Shape) != 5:
		return bad("input shape %v is not [B, C, T, H, W]", m.Input.Shape)
	case m.Input.Shape[1] != 1 && m.Input.Shape[1] != 3:
		return bad("input channels %d, want 1 or 3", m.Input.Shape[1])
	case m.Input.Shape[2] < 1 || m.Input.Shape[3] < 8 || m.Input.Shape[4] < 8:
		return bad("input shape %v too small", m.Input.Shape)
	case m.Output.Dim < 2 || m.Input.Name == "" || m.Output.Name == "":
		return bad("input/output names and output dim are required")
	case len(m.SHA256) != 64:
		return bad("sha256 missing")
	}
	if err := m.checkTime(); err != nil {
		return bad("%s", err)
	}
	if m.BatchSize < 1 {
		m.BatchSize = 1
	}
	return nil
}

// checkTime checks the time mapping and the averaging against the kinds
// and modes Preprocess knows.
func (m *Manifest) checkTime() error {
	for kind, mode := range m.TimeMapping {
		modes, ok := timeModes[kind]
		if !ok {
			return fmt.Errorf("time_mapping for unknown kind %q (image2d, volume, video)", kind)
		}
		if !slices.Contains(modes, mode) {
			return fmt.Errorf("time_mapping %s %q, want one of %s", kind, mode, strings.Join(modes, ", "))
		}
	}
	for kind, n := range m.AverageFrames {
		switch {
		case kind == "image2d":
			return errors.New("average_frames for image2d: a 2D image has one frame")
		case kind != "volume" && kind != "video":
			return fmt.Errorf("average_frames for unknown kind %q (volume, video)", kind)
		case n < 1 || n > MaxAverageFrames:
			return fmt.Errorf("average_frames %s %d, want 1 to %d", kind, n, MaxAverageFrames)
		}
	}
	return nil
}

// ID identifies the embedding space of this model: embeddings are stored
// under it, so two models never mix in one index.
func (m *Manifest) ID() string {
	return m.Name + "@" + m.Version + "-" + m.SHA256[:12]
}

// C, T, H, W return the model's input dimensions.
func (m *Manifest) C() int { return int(m.Input.Shape[1]) }

// T is the number of frames/slices the model takes.
func (m *Manifest) T() int { return int(m.Input.Shape[2]) }

// H is the input height.
func (m *Manifest) H() int { return int(m.Input.Shape[3]) }

// W is the input width.
func (m *Manifest) W() int { return int(m.Input.Shape[4]) }

// VerifyFile checks data against the manifest's sha256.
func (m *Manifest) VerifyFile(data []byte) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return fmt.Errorf("model %s: the file's sha256 is %s, the manifest says %s: %w", m.Name, got, m.SHA256, ErrManifest)
	}
	return nil
}
