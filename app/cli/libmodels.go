package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/inference"
)

// LibraryModelsDir is where `m3ret adapt` writes the models it trains on a
// library's own items: inside the library folder, since they learnt from
// its images.
func LibraryModelsDir(libDir string) string { return filepath.Join(libDir, "models") }

// LibraryModel returns the manifest, in the library's models folder, of the
// model whose embedding space is id (see inference.Manifest.ID); "" when
// there is none. A library switched to an adapted model finds it there
// again at the next start.
func LibraryModel(libDir, id string) string {
	paths, _ := filepath.Glob(filepath.Join(LibraryModelsDir(libDir), "*.json"))
	for _, p := range paths {
		if strings.HasSuffix(p, ".log.json") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if m, err := inference.ParseManifest(data); err == nil && m.ID() == id {
			return p
		}
	}
	return ""
}
