// Package cli is the plumbing every m3ret subcommand shares, product and
// developer tools alike: the table a command is declared in (name, flags,
// argument check, run function, help), the common flags and the settings
// file behind their defaults, opening the encoder and the library as a
// Session over the controller, and output (one JSON document or text on
// stdout, one-line errors on stderr, exit codes).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/library"
)

// Exit codes of the command line.
const (
	ExitOK      = 0 // everything worked
	ExitError   = 1 // the command failed
	ExitUsage   = 2 // bad arguments
	ExitPartial = 3 // the command ran, but some files failed (see the summary)
)

// Command is one subcommand.
type Command struct {
	Name string // "import", or "bench embed" for a subcommand of bench
	Args string // its arguments for the usage line: "[--json] PATH..."
	Help string // what it does, one line
	// Flags declares the command's own flags (nil: the common ones only).
	Flags func(fs *flag.FlagSet)
	// Valid checks the arguments after parsing (nil: no positional ones).
	Valid func(fs *flag.FlagSet) bool
	// Run does the work and returns the exit code.
	Run func(e *Env) int
	// Hidden commands are left out of the help (those other commands run).
	Hidden bool
}

// Env is what a command runs with.
type Env struct {
	Common
	Args   []string // positional arguments
	Stdout io.Writer
	Stderr io.Writer
}

// Common holds the flags every command takes.
type Common struct {
	Library  string
	Model    string
	ORTLib   string
	Provider string
	Index    string
	JSON     bool
}

// register declares the common flags, their defaults taken from the
// user's settings file when it sets them.
func (c *Common) register(fs *flag.FlagSet, st Settings) {
	fs.StringVar(&c.Library, "library", Or(st.Library, library.DefaultDir()), "library folder")
	fs.StringVar(&c.Model, "model", st.Model, "model: an embedded name (m3ret-vit, baseline) or a path to .onnx/.json;\n"+
		"default: the embedded model the library was built with, else "+assets.DefaultModel)
	fs.StringVar(&c.ORTLib, "ort-lib", st.ORTLib, "path to the ONNX Runtime shared library")
	fs.StringVar(&c.Provider, "provider", Or(st.Provider, "auto"), "execution provider: auto, cpu, cuda, tensorrt, directml, coreml")
	fs.StringVar(&c.Index, "index", st.Index, "department index to search, weaviate://HOST[:PORT][,HOST...]/COLLECTION[?grpc=PORT&tls=1&ca=FILE]\n"+
		"(API key: 'm3ret index key', or $M3RET_WEAVIATE_API_KEY); empty: this library")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON document on stdout")
}

// Or returns a, or b when a is empty.
func Or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// NewFlags is a flag set with the common flags bound to c.
func NewFlags(name string, c *Common, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	st, err := LoadSettings()
	if err != nil {
		fmt.Fprintf(stderr, "m3ret: %v (using defaults)\n", err)
	}
	c.register(fs, st)
	return fs
}

// Parse parses flags that may come before, between or after positional
// arguments (m3ret query FILE --k 5).
func Parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// Find returns the command that args name (the longest match of one or two
// words) and the arguments after its name; nil when none matches.
func Find(table []Command, args []string) (*Command, []string) {
	if len(args) == 0 {
		return nil, nil
	}
	var found *Command
	var rest []string
	for i := range table {
		words := strings.Fields(table[i].Name)
		if len(words) <= len(args) && slices.Equal(words, args[:len(words)]) &&
			(found == nil || len(words) > len(strings.Fields(found.Name))) {
			found, rest = &table[i], args[len(words):]
		}
	}
	return found, rest
}

// Exec parses the arguments of cmd and runs it.
func (cmd *Command) Exec(args []string, stdout, stderr io.Writer) int {
	e := &Env{Stdout: stdout, Stderr: stderr}
	fs := NewFlags(cmd.Name, &e.Common, stderr)
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	valid := cmd.Valid
	if valid == nil {
		valid = func(fs *flag.FlagSet) bool { return fs.NArg() == 0 }
	}
	if err := Parse(fs, args); err != nil || !valid(fs) {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: m3ret %s %s\n", cmd.Name, cmd.Args)
		}
		return ExitUsage
	}
	e.Args = fs.Args()
	return cmd.Run(e)
}

// Usage writes one line per visible command.
func Usage(w io.Writer, table []Command) {
	for _, c := range table {
		if c.Hidden {
			continue
		}
		line := strings.TrimSpace("m3ret " + c.Name + " " + c.Args)
		if len(line) > 38 {
			fmt.Fprintf(w, "  %s\n  %38s %s\n", line, "", c.Help)
			continue
		}
		fmt.Fprintf(w, "  %-38s %s\n", line, c.Help)
	}
}

// Fail prints a one-line message (and, for a model mismatch, the command
// that fixes it) and returns ExitError. A damaged catalog is one line that
// says to run m3ret repair, whichever command met the damage.
func Fail(stderr io.Writer, err error) int {
	if errors.Is(err, library.ErrDamaged) {
		fmt.Fprintf(stderr, "m3ret: %v; run m3ret repair --library DIR to mend it (what can be read is kept, the rest listed)\n", err)
		return ExitError
	}
	fmt.Fprintf(stderr, "m3ret: %v\n", err)
	if errors.Is(err, library.ErrModelMismatch) {
		fmt.Fprintln(stderr, "m3ret: to search it with that model, re-embed it first: m3ret reindex --library DIR --model NAME")
	}
	return ExitError
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
