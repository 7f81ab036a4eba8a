package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// Session is an open encoder and a controller over the library it embeds
// for.
type Session struct {
	Enc *inference.Encoder
	RT  inference.Runtime
	*controller.Controller
}

// Open starts the encoder (see ChooseModel) and opens the library as a
// session that may change it (library.Write); see OpenAs.
func Open(c *Common, stderr io.Writer, o controller.Options) (*Session, error) {
	return OpenAs(c, stderr, o, library.Write)
}

// WaitingMessage is said once on stderr when a command waits for the
// library.
const WaitingMessage = "m3ret: the library is in use by another m3ret; waiting for it (Ctrl-C to stop)"

// Waiting returns what a command calls when it starts waiting for the
// library: WaitingMessage on stderr.
func Waiting(stderr io.Writer) func() {
	return func() { fmt.Fprintln(stderr, WaitingMessage) }
}

// OpenAs opens the library with the access given (library.Read for a
// command that only reads it, Shared for the window) and the encoder of
// the model it records (see ChooseModel), as a session. While another
// m3ret holds the library in a way that excludes this one, it waits, said
// once on stderr, until Ctrl-C. The library's notes (indexes rebuilt, say)
// go to stderr.
func OpenAs(c *Common, stderr io.Writer, o controller.Options, access library.Access) (*Session, error) {
	return OpenNotifying(c, stderr, o, access, nil)
}

// OpenNotifying is OpenAs calling waiting too (when not nil) as the wait
// begins: the window shows it to a user who has no terminal.
func OpenNotifying(c *Common, stderr io.Writer, o controller.Options, access library.Access, waiting func()) (*Session, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	say := Waiting(stderr)
	if waiting != nil {
		say = func() { Waiting(stderr)(); waiting() }
	}
	var enc *inference.Encoder
	var rt inference.Runtime
	lib, err := library.OpenFor(ctx, c.Library, library.OpenOptions{Access: access, Waiting: say},
		func(recorded string) (library.Embedder, error) {
			c.chooseFor(recorded)
			var err error
			enc, rt, err = startEncoder(c, stderr)
			return enc, err
		})
	if err != nil {
		if enc != nil {
			enc.Close()
		}
		return nil, err
	}
	lib.SetPACS(OpenPACS) // a pulled item whose files are gone is fetched again
	for _, n := range lib.Notes() {
		fmt.Fprintf(stderr, "m3ret: %s\n", n)
	}
	return &Session{Enc: enc, RT: rt, Controller: controller.New(lib, o)}, nil
}

// Session opens the session of the command's flags for a command that
// changes the library, runs fn on it and closes it; a failure to close
// (the vector index not saved, say: it is rebuilt at the next open) is
// said on stderr and fails the command.
func (e *Env) Session(fn func(s *Session) int) int { return e.SessionAs(library.Write, fn) }

// ReadSession is Session for a command that only reads the library: it
// shares the library with other readers (and a window).
func (e *Env) ReadSession(fn func(s *Session) int) int { return e.SessionAs(library.Read, fn) }

// SessionAs is Session with the library opened for access.
func (e *Env) SessionAs(access library.Access, fn func(s *Session) int) int {
	s, err := OpenAs(&e.Common, e.Stderr, controller.Options{}, access)
	if err != nil {
		return Fail(e.Stderr, err)
	}
	code := fn(s)
	if err := s.Close(); err != nil {
		fmt.Fprintf(e.Stderr, "m3ret: close library: %v\n", err)
		code = max(code, ExitError)
	}
	return code
}

// UseDept opens the department index the flags or settings name (none:
// nothing to do) and makes the session's searches use it.
func (s *Session) UseDept(ctx context.Context, c *Common, stderr io.Writer) error {
	if c.Index == "" {
		return nil
	}
	d, err := s.OpenDept(ctx, c, stderr, library.DeptOptions{})
	if err != nil {
		return err
	}
	s.SetDept(d)
	return nil
}

// OpenDept opens the department index the flags or settings name, with
// the saved API key (a new collection, with o.Create, for the session's
// model); its warnings (replication) go to stderr.
func (s *Session) OpenDept(ctx context.Context, c *Common, stderr io.Writer, o library.DeptOptions) (*library.DeptIndex, error) {
	key, err := DeptKey()
	if err != nil {
		return nil, err
	}
	o.APIKey, o.Dim = key, s.Enc.Dim()
	d, err := s.Library().OpenDept(ctx, c.Index, o)
	if err != nil {
		return nil, fmt.Errorf("department index: %w", err)
	}
	for _, n := range d.Notes() {
		fmt.Fprintf(stderr, "m3ret: %s\n", n)
	}
	return d, nil
}

// Close cancels the session's jobs, closes the library (saving its index)
// and the encoder, and returns what failed.
func (s *Session) Close() error {
	return errors.Join(s.Controller.Close(), s.Enc.Close())
}

// ChooseModel fills in the model when neither --model nor the settings
// name one: the embedded model the library was built with, so that a
// library made before the default changed keeps working as it was, else
// assets.DefaultModel for a new library (or one built with a model file
// other than those adapted to it, which are found in its models folder).
func (c *Common) ChooseModel() {
	if c.Model != "" {
		return
	}
	id, err := library.RecordedModel(c.Library)
	if err != nil {
		id = ""
	}
	c.chooseFor(id)
}

// chooseFor is ChooseModel for a library recording the model id ("" for
// a new library).
func (c *Common) chooseFor(id string) {
	if c.Model != "" {
		return
	}
	c.Model = assets.DefaultModel
	if id == "" {
		return
	}
	if m, ok := FindModel(id); ok { // the very model, embedded or added
		c.Model = m.Spec()
		return
	}
	if name, _, _ := strings.Cut(id, "@"); name != "" {
		if _, _, err := assets.Model(name); err == nil {
			c.Model = name
		} else if p := LibraryModel(c.Library, id); p != "" {
			c.Model = p // adapted to this library (m3ret adapt)
		}
	}
}

// LoadEncoder starts ONNX Runtime and the chosen model (see ChooseModel).
func LoadEncoder(c *Common, stderr io.Writer) (*inference.Encoder, inference.Runtime, error) {
	c.ChooseModel()
	return startEncoder(c, stderr)
}

// startEncoder starts ONNX Runtime and c.Model.
func startEncoder(c *Common, stderr io.Writer) (*inference.Encoder, inference.Runtime, error) {
	rt, err := inference.Start(c.ORTLib)
	if err != nil {
		return nil, rt, err
	}
	enc, err := LoadModel(c.Model, inference.Options{Provider: c.Provider})
	if err != nil {
		return nil, rt, err
	}
	noteProvider(stderr, c.Provider, enc)
	return enc, rt, nil
}

// LoadModel loads an embedded model by name, a model added to the models
// folder (by id, NAME@VERSION or name), or a model file by path.
func LoadModel(model string, opts inference.Options) (*inference.Encoder, error) {
	if man, onnx, err := assets.Model(model); err == nil {
		return inference.Load(man, onnx, opts)
	}
	if _, err := os.Stat(model); err != nil {
		m, ok := FindModel(model)
		if !ok {
			return nil, fmt.Errorf("model %q is neither embedded, nor added (m3ret model list), nor a file", model)
		}
		model = m.Spec()
		if m.Embedded {
			return LoadModel(model, opts)
		}
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

// Status is the one-line summary of the library and runtime in use.
func (s *Session) Status(items int) string {
	return fmt.Sprintf("%d items · model %s · ONNX Runtime %s on %s", items, s.Enc.Manifest().Name,
		s.RT.Version, strings.ToUpper(s.Enc.Provider()))
}
