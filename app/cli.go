package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &common{}
	st, err := LoadSettings()
	if err != nil {
		fmt.Fprintf(stderr, "m3ret: %v (using defaults)\n", err)
	}
	c.register(fs, st)
	return fs, c
}

// parse parses flags that may come before, between or after positional
// arguments (m3ret query FILE --k 5).
func parse(fs *flag.FlagSet, args []string) error {
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

// output prints v as one JSON document, or as text, and returns ExitOK.
func output(w io.Writer, asJSON bool, v any, text func(io.Writer)) int {
	if asJSON {
		writeJSON(w, v)
	} else {
		text(w)
	}
	return ExitOK
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// importItem is an item as `import --json` prints it.
type importItem struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Modality string `json:"modality"`
	Frames   int    `json:"frames"`
	Path     string `json:"path"`
	// Files lists a series' slices in order (absent for single files).
	Files []string `json:"files,omitempty"`
}

func cmdImport(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("import", stderr)
	if parse(fs, args) != nil || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: m3ret import [--json] PATH...")
		return ExitUsage
	}
	s, err := openSession(c, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer s.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := s.lib.Import(ctx, fs.Args(), stderrProgress(stderr))
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(stderr, err)
	}
	printImport(stdout, c.json, rep)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "m3ret: import cancelled; items stored so far are kept")
		return ExitError
	case len(rep.Failed) > 0:
		return ExitPartial
	}
	return ExitOK
}

func printImport(w io.Writer, asJSON bool, rep *library.Report) {
	if asJSON {
		out := struct {
			Imported int               `json:"imported"`
			Skipped  int               `json:"skipped"`
			Failed   []library.Failure `json:"failed"`
			Items    []importItem      `json:"items"`
		}{rep.Imported, rep.Skipped, rep.Failed, []importItem{}}
		for _, it := range rep.Items {
			out.Items = append(out.Items, importItem{it.ID, it.Kind, it.Modality, it.Frames, it.Path, it.Files})
		}
		writeJSON(w, out)
		return
	}
	fmt.Fprintf(w, "imported %d, skipped %d (already in the library), failed %d\n", rep.Imported, rep.Skipped, len(rep.Failed))
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "  failed: %s: %s\n", f.Path, f.Error)
	}
}

// stderrProgress reports progress on stderr at most a few times a second.
func stderrProgress(stderr io.Writer) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if done != total && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprintf(stderr, "\rimporting %d/%d", done, total)
		if done == total {
			fmt.Fprintln(stderr)
		}
	}
}

// queryResult is one neighbour as `query --json` prints it.
type queryResult struct {
	Rank     int     `json:"rank"`
	ID       string  `json:"id"`
	Score    float32 `json:"score"`
	Kind     string  `json:"kind"`
	Modality string  `json:"modality"`
	Path     string  `json:"path"`
	Series   string  `json:"series"`
}

func cmdQuery(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("query", stderr)
	k := fs.Int("k", 10, "number of neighbours")
	filter := fs.String("filter", "", "bleve query on metadata, e.g. 'modality:CT'")
	item := fs.String("item", "", "query with a library item instead of a file")
	if parse(fs, args) != nil || (fs.NArg() == 1) == (*item != "") || *k < 1 {
		fmt.Fprintln(stderr, "usage: m3ret query [--k N] [--filter Q] [--json] (PATH | --item ID)")
		return ExitUsage
	}
	s, err := openSession(c, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer s.Close()
	var q *library.Query
	query := map[string]any{"k": *k, "filter": *filter, "model": s.enc.ModelID()}
	if *item != "" {
		q, err = s.lib.QueryItem(context.Background(), *item, *k, *filter)
		query["item"] = *item
	} else {
		q, err = s.lib.QueryFile(context.Background(), fs.Arg(0), *k, *filter)
		query["path"] = fs.Arg(0)
		if q != nil && q.Sample != nil {
			query["kind"], query["modality"] = q.Sample.Kind, q.Sample.Meta.Modality
		}
	}
	if err != nil {
		return fail(stderr, err)
	}
	results := make([]queryResult, 0, len(q.Results))
	for _, r := range q.Results {
		results = append(results, queryResult{r.Rank, r.Item.ID, r.Score, r.Item.Kind, r.Item.Modality, r.Item.Path, r.Item.Description})
	}
	if c.json {
		writeJSON(stdout, map[string]any{"query": query, "results": results})
		return ExitOK
	}
	for _, r := range results {
		fmt.Fprintf(stdout, "%2d  %.4f  %-8s %-4s %s\n", r.Rank, r.Score, r.Kind, r.Modality, r.Path)
	}
	return ExitOK
}

func cmdInfo(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("info", stderr)
	if parse(fs, args) != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: m3ret info [--json]")
		return ExitUsage
	}
	s, err := openSession(c, stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer s.Close()
	st, err := s.lib.Stats()
	if err != nil {
		return fail(stderr, err)
	}
	info := s.info(st)
	return output(stdout, c.json, info, func(w io.Writer) { printInfo(w, info) })
}

type infoDoc struct {
	Version string         `json:"version"`
	Model   map[string]any `json:"model"`
	Runtime map[string]any `json:"runtime"`
	Library map[string]any `json:"library"`
}

func (s *session) info(st library.Stats) infoDoc {
	m := s.enc.Manifest()
	return infoDoc{
		Version: Version,
		Model: map[string]any{"name": m.Name, "version": m.Version, "id": m.ID(), "sha256": m.SHA256,
			"dimension": m.Output.Dim, "input_shape": m.Input.Shape},
		Runtime: s.runtimeInfo(),
		Library: map[string]any{"path": s.lib.Dir(), "items": st.Items, "by_kind": st.ByKind, "by_modality": st.ByModality},
	}
}

func (s *session) runtimeInfo() map[string]any {
	avail, unavail := inference.Probe()
	up := make([]string, len(avail))
	for i, p := range avail {
		up[i] = strings.ToUpper(p)
	}
	why := map[string]string{}
	for p, reason := range unavail {
		why[strings.ToUpper(p)] = reason
	}
	for p, reason := range s.enc.ProviderNotes() { // tried for this model and failed
		why[strings.ToUpper(p)] = reason
	}
	return map[string]any{"ort_version": s.rt.Version, "library": s.rt.Path, "provider": strings.ToUpper(s.enc.Provider()),
		"available": up, "unavailable": why}
}

func printInfo(w io.Writer, d infoDoc) {
	fmt.Fprintf(w, "M3Ret Viewer %s\n", d.Version)
	fmt.Fprintf(w, "model:    %s (%v-d, sha256 %.12s)\n", d.Model["id"], d.Model["dimension"], d.Model["sha256"])
	fmt.Fprintf(w, "runtime:  ONNX Runtime %s, provider %s (%s)\n", d.Runtime["ort_version"], d.Runtime["provider"], d.Runtime["library"])
	notes, _ := d.Runtime["unavailable"].(map[string]string)
	for _, p := range sortedKeys(notes) {
		fmt.Fprintf(w, "          %s unavailable: %s\n", p, notes[p])
	}
	fmt.Fprintf(w, "library:  %s, %d items\n", d.Library["path"], d.Library["items"])
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
