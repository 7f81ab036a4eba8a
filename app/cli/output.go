package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// WriteJSON writes v as one indented JSON document.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// Output prints v as one JSON document (--json) or as text, and returns
// ExitOK, or ExitError when stdout could not be written (a closed pipe, a
// full disk): a script must not read a cut document as a success.
func (e *Env) Output(v any, text func(io.Writer)) int {
	var err error
	if e.JSON {
		err = WriteJSON(e.Stdout, v)
	} else {
		w := &errWriter{w: e.Stdout}
		text(w)
		err = w.err
	}
	if err != nil {
		return Fail(e.Stderr, err)
	}
	return ExitOK
}

// errWriter keeps the first write error; later writes do nothing.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	if err != nil {
		w.err = fmt.Errorf("write output: %w", err)
	}
	return n, err
}

// Progress reports progress on stderr at most a few times a second. While
// nothing is done yet, (0, n) says n were found so far (an import's walk).
func Progress(stderr io.Writer, what string) func(done, total int) {
	var last time.Time
	width := 0
	return func(done, total int) {
		if done != total && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		line := fmt.Sprintf("%s %d/%d", what, done, total)
		if done == 0 && total > 0 {
			line = fmt.Sprintf("%s: %d found", what, total)
		}
		// Spaces clear what a longer line before left on the terminal.
		fmt.Fprintf(stderr, "\r%-*s", width, line)
		width = len(line)
		if done == total {
			fmt.Fprintln(stderr)
		}
	}
}

// Text makes a string from outside this program (a department index, a
// PACS, a file name) safe to print as text: control characters, line and
// paragraph separators and bidirectional overrides are escaped as Go
// writes them (\n, \x1b, \u202e), and bytes that are not UTF-8 as \xNN,
// so a planted value prints as one visible string, never as a line of its
// own or a terminal command. Every text printer of such strings uses it
// (JSON output escapes them itself).
func Text(s string) string {
	if !strings.ContainsFunc(s, mustEscape) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case mustEscape(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

func mustEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}
