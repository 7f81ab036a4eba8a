// Package train is the Go side of the encoder's training: the PyTorch
// scripts of this folder, embedded so that `m3ret adapt` can run them
// where no source checkout is (WriteScripts), and the training arrays the
// scripts read, written from media samples by the inference package's own
// preprocessing (WriteArrays, WriteIndex; `m3ret dataset` and `m3ret
// adapt` write them).
package train

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

// scripts are what adapt.py needs to run: itself and what it imports.
//
//go:embed adapt.py train.py model.py export.py
var scripts embed.FS

// AdaptScript is the script `m3ret adapt` runs, as WriteScripts names it.
const AdaptScript = "adapt.py"

// WriteScripts writes the embedded training scripts into dir (which must
// exist), readable by the user alone.
func WriteScripts(dir string) error {
	entries, err := scripts.ReadDir(".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := scripts.ReadFile(e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o600); err != nil {
			return fmt.Errorf("write training script: %w", err)
		}
	}
	return nil
}
