// Package app wires M3Ret Viewer together: the command line (import, query,
// info) and the Fyne window (library grid, drag-and-drop import and query,
// results, side-by-side comparison), both over the same library and encoder
// code paths.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// Version is the application version; release builds set it with
// -ldflags "-X github.com/m3ret/viewer/app.Version=...".
var Version = "0.1.0-dev"

// Exit codes of the command line.
const (
	ExitOK      = 0 // everything worked
	ExitError   = 1 // the command failed
	ExitUsage   = 2 // bad arguments
	ExitPartial = 3 // the command ran, but some files failed (see the summary)
)

// common holds the flags every command takes.
type common struct {
	library  string
	model    string
	ortLib   string
	provider string
	json     bool
}

// register declares the common flags, their defaults taken from the user's
// settings file when it sets them.
func (c *common) register(fs *flag.FlagSet, st Settings) {
	fs.StringVar(&c.library, "library", or(st.Library, library.DefaultDir()), "library folder")
	fs.StringVar(&c.model, "model", st.Model, "model: an embedded name (m3ret-vit, baseline) or a path to .onnx/.json;\n"+
		"default: the embedded model the library was built with, else "+assets.DefaultModel)
	fs.StringVar(&c.ortLib, "ort-lib", st.ORTLib, "path to the ONNX Runtime shared library")
	fs.StringVar(&c.provider, "provider", or(st.Provider, "auto"), "execution provider: auto, cpu, cuda, tensorrt, directml, coreml")
	fs.BoolVar(&c.json, "json", false, "print one JSON document on stdout")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Main runs the program with os.Args[1:] and returns the exit code.
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "import":
			return cmdImport(args[1:], stdout, stderr)
		case "query":
			return cmdQuery(args[1:], stdout, stderr)
		case "info":
			return cmdInfo(args[1:], stdout, stderr)
		case "reindex":
			return cmdReindex(args[1:], stdout, stderr)
		case "bench":
			return cmdBench(args[1:], stdout, stderr)
		case "eval":
			return cmdEval(args[1:], stdout, stderr)
		case "dataset": // training arrays for inference/train (make train)
			return cmdDataset(args[1:], stdout, stderr)
		case "version", "--version":
			fmt.Fprintln(stdout, Version)
			return ExitOK
		case "help", "-h", "--help":
			usage(stdout)
			return ExitOK
		}
	}
	return cmdGUI(args, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `M3Ret Viewer `+Version+` — similar-case retrieval for medical images

usage:
  m3ret [--library DIR] [PATH...]        open the window (PATHs are imported)
  m3ret import [--json] PATH...          import files and folders
  m3ret query [--k N] [--filter Q] [--json] (PATH | --item ID)
  m3ret info [--json]                    version, model, runtime, library counts
  m3ret reindex [--model NAME|PATH]      re-embed the library with a model, rebuild the indexes
  m3ret bench embed [--json]             embedding speed per kind, against a PyTorch twin
  m3ret eval --labels FILE.csv [--k N] [--plot FILE.png] [--json]
                                         leave-one-out retrieval quality over labelled items

common flags: --library DIR  --model NAME|PATH  --ort-lib PATH  --provider NAME
exit codes: 0 ok, 1 failed, 2 bad arguments, 3 some files failed
`)
}

// fail prints a one-line message and returns ExitError.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "m3ret: %v\n", err)
	if errors.Is(err, library.ErrModelMismatch) {
		fmt.Fprintln(stderr, "m3ret: to search it with that model, re-embed it first: m3ret reindex --library DIR --model NAME")
	}
	return ExitError
}

// chooseModel fills in the model when neither --model nor the settings name
// one: the embedded model the library was built with, so that a library
// made before the default changed keeps working as it was, else
// assets.DefaultModel for a new library (or one built with a model file).
func (c *common) chooseModel() {
	if c.model != "" {
		return
	}
	c.model = assets.DefaultModel
	id, err := library.RecordedModel(c.library)
	if err != nil || id == "" {
		return
	}
	if name, _, _ := strings.Cut(id, "@"); name != "" {
		if _, _, err := assets.Model(name); err == nil {
			c.model = name
		}
	}
}

// loadEncoder starts ONNX Runtime and the chosen model (see chooseModel).
func loadEncoder(c *common, stderr io.Writer) (*inference.Encoder, inference.Runtime, error) {
	c.chooseModel()
	rt, err := inference.Start(c.ortLib)
	if err != nil {
		return nil, rt, err
	}
	enc, err := loadModel(c.model, inference.Options{Provider: c.provider})
	if err != nil {
		return nil, rt, err
	}
	noteProvider(stderr, c.provider, enc)
	return enc, rt, nil
}

// loadModel loads an embedded model by name, or a model file by path.
func loadModel(model string, opts inference.Options) (*inference.Encoder, error) {
	if man, onnx, err := assets.Model(model); err == nil {
		return inference.Load(man, onnx, opts)
	}
	if _, err := os.Stat(model); err != nil {
		return nil, fmt.Errorf("model %q is neither embedded nor a file", model)
	}
	return inference.LoadFile(model, opts)
}

// noteProvider says once, on stderr, when a provider asked for by name was
// not used, and why.
func noteProvider(stderr io.Writer, asked string, enc *inference.Encoder) {
	asked = strings.ToLower(asked)
	if asked == "" || asked == "auto" || asked == enc.Provider() {
		return
	}
	fmt.Fprintf(stderr, "m3ret: provider %s unavailable (%s); using %s\n", asked, enc.ProviderNotes()[asked], strings.ToUpper(enc.Provider()))
}

// session is an open encoder and library.
type session struct {
	enc *inference.Encoder
	rt  inference.Runtime
	lib *library.Library
}

func openSession(c *common, stderr io.Writer) (*session, error) {
	enc, rt, err := loadEncoder(c, stderr)
	if err != nil {
		return nil, err
	}
	lib, err := library.Open(c.library, enc)
	if err != nil {
		enc.Close()
		return nil, err
	}
	for _, n := range lib.Notes() {
		fmt.Fprintf(stderr, "m3ret: %s\n", n)
	}
	return &session{enc: enc, rt: rt, lib: lib}, nil
}

func (s *session) Close() {
	s.lib.Close()
	s.enc.Close()
}
