package adapt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// Switched is what switching the library to an adapted model did.
type Switched struct {
	Model      string            `json:"model"`
	Reembedded int               `json:"reembedded"`
	Skipped    int               `json:"skipped"` // already embedded with it
	Failed     []library.Failure `json:"failed"`
}

// Switch re-embeds the library with the model whose manifest is at path
// and then switches it to that model at once (the reindex path: until the
// new embeddings are complete the library keeps its model; cancelled, it
// keeps it). A later start finds the model in the library's models folder.
func Switch(ctx context.Context, c *cli.Common, path string, log io.Writer, progress func(done, total int)) (*Switched, error) {
	if _, err := inference.Start(c.ORTLib); err != nil {
		return nil, err
	}
	enc, err := cli.LoadModel(path, inference.Options{Provider: c.Provider})
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	lib, err := library.OpenForReindexWith(ctx, c.Library, enc, library.OpenOptions{Waiting: cli.Waiting(log)})
	if err != nil {
		return nil, err
	}
	ctl := controller.New(lib, controller.Options{})
	defer ctl.Close()
	rep, err := ctl.Reindex(ctx, progress)
	sw := &Switched{Model: enc.ModelID(), Reembedded: rep.Imported, Skipped: rep.Skipped, Failed: rep.Failed}
	if sw.Failed == nil {
		sw.Failed = []library.Failure{}
	}
	return sw, err
}

// Find returns the manifest of the library's adapted model called name
// (adapted-YYYYMMDD-HHMM, or that with .json), for a later switch.
func Find(libDir, name string) (string, error) {
	name = strings.TrimSuffix(filepath.Base(name), ".json")
	path := filepath.Join(ModelsDir(libDir), name+".json")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("no adapted model %q in %s: %w", name, ModelsDir(libDir), err)
	}
	return path, nil
}
