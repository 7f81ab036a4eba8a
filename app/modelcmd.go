package app

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library"
)

// modelCommands are `m3ret model list|add|use`: the window's Settings →
// Models on the command line.
func modelCommands() []cli.Command {
	return []cli.Command{modelListCommand(), modelAddCommand(), modelUseCommand()}
}

// modelsDoc is what `model list --json` prints.
type modelsDoc struct {
	Models  []modelRow `json:"models"`
	Library struct {
		Path  string `json:"path"`
		Model string `json:"model"` // the id it records, "" for a new library
	} `json:"library"`
	Folder string `json:"folder"` // where added models are kept
}

type modelRow struct {
	cli.ModelInfo
	InUse bool `json:"in_use"`
}

func modelListCommand() cli.Command {
	return cli.Command{Name: "model list", Args: "[--json]",
		Help: "the embedded, added and adapted models, and the one the library uses", Run: runModelList}
}

func runModelList(e *cli.Env) int {
	models, err := cli.ModelsFor(e.Library)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	rec, err := library.RecordedModel(e.Library)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	var d modelsDoc
	d.Library.Path, d.Library.Model, d.Folder = e.Library, rec, cli.ModelsDir()
	d.Models = []modelRow{}
	for _, m := range models {
		d.Models = append(d.Models, modelRow{m, m.ID == rec})
	}
	return e.Output(d, func(w io.Writer) { printModels(w, d) })
}

func printModels(w io.Writer, d modelsDoc) {
	fmt.Fprintf(w, "  %-20s %-12s %5s %9s  %s\n", "name", "version", "dim", "size", "from")
	for _, m := range d.Models {
		mark, from := " ", "embedded"
		if m.InUse {
			mark = "*"
		}
		if !m.Embedded {
			from = m.Path
		}
		if m.Adapted {
			from = "adapted: " + m.Path
		}
		fmt.Fprintf(w, "%s %-20s %-12s %5d %9s  %s\n", mark, m.Name, m.Version, m.Dim, sizeText(m.Size), from)
	}
	switch {
	case d.Library.Model == "":
		fmt.Fprintf(w, "library %s: new; it will use %s\n", d.Library.Path, assets.DefaultModel)
	case !anyInUse(d.Models):
		fmt.Fprintf(w, "library %s: built with %s, not among these (m3ret model add, or m3ret model use)\n", d.Library.Path, d.Library.Model)
	default:
		fmt.Fprintf(w, "* the model library %s uses\n", d.Library.Path)
	}
}

func anyInUse(rows []modelRow) bool {
	for _, r := range rows {
		if r.InUse {
			return true
		}
	}
	return false
}

// sizeText is a file size in plain units.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
}

func modelAddCommand() cli.Command {
	return cli.Command{Name: "model add", Args: "[--json] (MODEL.onnx [MANIFEST.json] | FOLDER)",
		Help:  "verify a model against its manifest and keep a copy in the user's models folder",
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 1 || fs.NArg() == 2 },
		Run: func(e *cli.Env) int {
			info, added, err := cli.AddModel(&e.Common, e.Args...)
			if err != nil {
				return cli.Fail(e.Stderr, fmt.Errorf("model not added: %w", err))
			}
			return e.Output(info, func(w io.Writer) {
				verb := "added"
				if !added {
					verb = "already added"
				}
				fmt.Fprintf(w, "%s %s@%s (%d-d, %s) as %s\n", verb, info.Name, info.Version, info.Dim, sizeText(info.Size), info.Path)
			})
		}}
}

func modelUseCommand() cli.Command {
	return cli.Command{Name: "model use", Args: "[--json] NAME|ID|PATH",
		Help:  "re-embed the library with a model, then switch to it (as reindex --model)",
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 1 },
		Run: func(e *cli.Env) int {
			e.Model = e.Args[0]
			all, _ := cli.ModelsFor(e.Library) // those adapted to the library too
			if m, ok := cli.FindModelIn(all, e.Model); ok {
				e.Model = m.Spec()
			}
			return runReindex(e)
		}}
}

// rememberModel adds a model given as a file to the models folder, so that
// the library finds the model it records again without --model, and points
// e.Model at the copy.
func rememberModel(e *cli.Env) error {
	if _, _, err := assets.Model(e.Model); err == nil {
		return nil
	}
	if _, err := os.Stat(e.Model); err != nil {
		return nil // a name or id: LoadModel finds it or says why
	}
	if abs, err := filepath.Abs(e.Model); err == nil && filepath.Dir(abs) == cli.LibraryModelsDir(absOr(e.Library)) {
		return nil // adapted to this library: found there at every start
	}
	info, added, err := cli.AddModel(&e.Common, e.Model)
	if err != nil {
		return err
	}
	if added {
		fmt.Fprintf(e.Stderr, "m3ret: model %s@%s added to %s\n", info.Name, info.Version, cli.ModelsDir())
	}
	e.Model = info.Path
	return nil
}

// absOr is path made absolute (path itself when that fails).
func absOr(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
