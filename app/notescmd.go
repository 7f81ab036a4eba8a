package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// noteOptions are the flags of `m3ret note`.
type noteOptions struct {
	query, result, verdict string
	clear, list            bool
}

func noteCommand() cli.Command {
	var o noteOptions
	return cli.Command{Name: "note",
		Args: "ITEM [TEXT...] | --query ITEM|FILE --result ITEM [--verdict similar|not-similar] [TEXT...] | --list [--json]",
		Help: "write, read or clear a note on an item or on a query–result pair",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.query, "query", "", "the pair's query: a library item id, or a file")
			fs.StringVar(&o.result, "result", "", "the pair's result (an item id)")
			fs.StringVar(&o.verdict, "verdict", "", `"similar" or "not-similar" (pair notes)`)
			fs.BoolVar(&o.clear, "clear", false, "remove the note")
			fs.BoolVar(&o.list, "list", false, "list every note")
		},
		Valid: func(fs *flag.FlagSet) bool {
			pair := o.query != "" && o.result != ""
			return o.list && fs.NArg() == 0 || pair || (o.query == "" && o.result == "" && fs.NArg() >= 1)
		},
		Run: func(e *cli.Env) int { return runNote(e, &o) }}
}

func runNote(e *cli.Env, o *noteOptions) int {
	text := strings.Join(e.Args, " ")
	switch {
	case o.list:
		return e.ReadSession(func(s *cli.Session) int { return listNotes(e, s.Library()) })
	case o.query != "":
		return e.Session(func(s *cli.Session) int { return pairNote(e, s.Library(), o, text) })
	}
	id, text := e.Args[0], strings.Join(e.Args[1:], " ")
	if text == "" && !o.clear {
		return e.ReadSession(func(s *cli.Session) int { return showNote(e, s.Library(), id) })
	}
	return e.Session(func(s *cli.Session) int {
		if err := s.Library().SetNote(interruptible(), id, text); err != nil {
			return cli.Fail(e.Stderr, err)
		}
		return cli.ExitOK
	})
}

// interruptible is a context Ctrl-C ends (the process exits with it).
func interruptible() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt)
	return ctx
}

func showNote(e *cli.Env, lib *library.Library, id string) int {
	n, err := lib.Note(id)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	return e.Output(n, func(w io.Writer) { fmt.Fprintln(w, n.Text) })
}

func pairNote(e *cli.Env, lib *library.Library, o *noteOptions, text string) int {
	ctx := interruptible()
	key, err := lib.KeyOf(ctx, o.query)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	n := library.Note{Query: key, Result: o.result, Verdict: library.Verdict(strings.ReplaceAll(o.verdict, "-", " ")), Text: text}
	if text == "" && o.verdict == "" && !o.clear {
		if n, err = lib.PairNote(key, o.result); err != nil {
			return cli.Fail(e.Stderr, err)
		}
		return e.Output(n, func(w io.Writer) { printNote(w, n) })
	}
	if err := lib.SetPairNote(ctx, n); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	return cli.ExitOK
}

// notesDoc is what `note --list --json` prints.
type notesDoc struct {
	Notes  []library.Note    `json:"notes"`
	Labels map[string]string `json:"labels"`
}

func listNotes(e *cli.Env, lib *library.Library) int {
	notes, err := lib.AllNotes()
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	labels, err := lib.Labels()
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	return e.Output(notesDoc{notes, labels}, func(w io.Writer) {
		for _, n := range notes {
			printNote(w, n)
		}
		ids := make([]string, 0, len(labels))
		for id := range labels {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Fprintf(w, "%s\tlabel\t%s\n", id, labels[id])
		}
	})
}

func printNote(w io.Writer, n library.Note) {
	if n.Item != "" {
		fmt.Fprintf(w, "%s\tnote\t%s\n", n.Item, n.Text)
		return
	}
	v := string(n.Verdict)
	if v == "" {
		v = "-"
	}
	fmt.Fprintf(w, "%s → %s\t%s\t%s\n", n.Query, n.Result, v, n.Text)
}

func labelCommand() cli.Command {
	var clear bool
	return cli.Command{Name: "label", Args: "ITEM [LABEL] [--clear] [--json]",
		Help: "set, read or clear an item's label (what `m3ret eval` scores with)",
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&clear, "clear", false, "remove the label")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() >= 1 },
		Run: func(e *cli.Env) int {
			id, label := e.Args[0], strings.Join(e.Args[1:], " ")
			if label == "" && !clear {
				return e.ReadSession(func(s *cli.Session) int { return showLabel(e, s.Library(), id) })
			}
			return e.Session(func(s *cli.Session) int {
				if err := s.Library().SetLabel(interruptible(), id, label); err != nil {
					return cli.Fail(e.Stderr, err)
				}
				return cli.ExitOK
			})
		}}
}

func showLabel(e *cli.Env, lib *library.Library, id string) int {
	if _, err := lib.Item(id); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	l, err := lib.Label(id)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	return e.Output(map[string]string{"id": id, "label": l}, func(w io.Writer) { fmt.Fprintln(w, l) })
}
