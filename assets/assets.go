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

// DefaultModel is the name of the model used when none is asked for. The
// trained encoder "m3ret-vit" (inference/train) is embedded and selectable
// with --model m3ret-vit; it becomes the default once it beats this
// baseline on the dev set (inference/train/README.md).
const DefaultModel = "baseline"

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
