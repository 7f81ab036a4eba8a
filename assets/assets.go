// Package assets embeds what the binary ships with: the application icon and
// the default encoder models with their manifests.
package assets

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed icon.png
var Icon []byte

//go:embed models/*.onnx models/*.json
var models embed.FS

// DefaultModel is the name of the model used for a new library when none is
// asked for: the trained M3Ret-style encoder (inference/train), which beats
// the non-learned "baseline" on the dev set (inference/train/README.md).
// The baseline stays embedded and selectable with --model baseline.
const DefaultModel = "m3ret-vit"

// Model returns the manifest and ONNX bytes of an embedded model by name.
func Model(name string) (manifest, onnx []byte, err error) {
	manifest, err = fs.ReadFile(models, "models/"+name+".json")
	if err != nil {
		return nil, nil, fmt.Errorf("no embedded model %q", name)
	}
	onnx, err = fs.ReadFile(models, "models/"+name+".onnx")
	if err != nil {
		return nil, nil, fmt.Errorf("embedded model %q has no .onnx: %w", name, err)
	}
	return manifest, onnx, nil
}
