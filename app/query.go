package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// queryDoc is what `query --json` prints.
// Vote and Unlabelled are the label distribution among the results
// (library.Vote), left out when no result is labelled.
type queryDoc struct {
	Query      queryInfo          `json:"query"`
	Results    []queryResult      `json:"results"`
	Vote       map[string]float64 `json:"vote,omitempty"`
	Unlabelled *int               `json:"unlabelled,omitempty"`
}

// queryInfo says what was asked: an item, or a file (with its kind and
// modality once read).
type queryInfo struct {
	K        int     `json:"k"`
	Filter   string  `json:"filter"`
	Model    string  `json:"model"`
	Item     string  `json:"item,omitempty"`
	Path     string  `json:"path,omitempty"`
	Kind     *string `json:"kind,omitempty"`
	Modality *string `json:"modality,omitempty"`
}

// queryResult is one neighbour.
type queryResult struct {
	Rank     int     `json:"rank"`
	ID       string  `json:"id"`
	Score    float32 `json:"score"`
	Kind     string  `json:"kind"`
	Modality string  `json:"modality"`
	Path     string  `json:"path"`
	Series   string  `json:"series"`
}

func queryCommand() cli.Command {
	var r controller.QueryRequest
	var server string
	return cli.Command{Name: "query", Args: "[--k N] [--filter Q] [--json] (PATH | --item ID | --pacs NAME STUDY_UID [SERIES_UID])",
		Help: "the library items most similar to a file, an item, or a study pulled from a PACS",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&r.K, "k", 10, "number of neighbours")
			fs.StringVar(&r.Filter, "filter", "", "bleve query on metadata, e.g. 'modality:CT'")
			fs.StringVar(&r.ItemID, "item", "", "query with a library item instead of a file")
			fs.StringVar(&server, "pacs", "", "pull STUDY_UID (or one series of it) from this PACS, then query with it")
		},
		Valid: func(fs *flag.FlagSet) bool {
			if server != "" {
				return r.ItemID == "" && fs.NArg() >= 1 && fs.NArg() <= 2 && r.K >= 1
			}
			return (fs.NArg() == 1) != (r.ItemID != "") && r.K >= 1
		},
		Run: func(e *cli.Env) int {
			if server != "" { // the study is pulled into the library first
				return e.Session(func(s *cli.Session) int { return queryPACS(e, s, server, r) })
			}
			return e.ReadSession(func(s *cli.Session) int {
				if r.ItemID == "" {
					r.Path = e.Args[0]
				}
				return query(e, s, r)
			})
		}}
}

// queryPACS pulls a study (or one series) and queries with what it holds:
// the series named, else the item with the most frames.
func queryPACS(e *cli.Env, s *cli.Session, server string, r controller.QueryRequest) int {
	study, series := e.Args[0], ""
	var only []string
	if len(e.Args) == 2 {
		series, only = e.Args[1], e.Args[1:]
	}
	if rep, code := pull(e, s, server, study, only); rep == nil || code == cli.ExitError {
		return code
	}
	items, err := s.ItemsFrom(server, study, series)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	if len(items) == 0 {
		return cli.Fail(e.Stderr, fmt.Errorf("study %s on %s: nothing the library can read was pulled", study, server))
	}
	r.ItemID = items[0].ID
	return query(e, s, r)
}

// where names an item's pixels: its file, or for a department result
// not in this library, the PACS series it comes from.
func where(it library.Item) string {
	if library.Remote(it) {
		return fmt.Sprintf("pacs:%s study %s series %s", it.Source.Server, it.Source.StudyUID, it.Source.SeriesUID)
	}
	return it.Path
}

func query(e *cli.Env, s *cli.Session, r controller.QueryRequest) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := s.UseDept(ctx, &e.Common, e.Stderr); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	found, err := s.Query(ctx, r)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	if d := s.Dept(); d != nil {
		for _, n := range d.TakeSearchNotes() { // objects of the index left out
			fmt.Fprintf(e.Stderr, "m3ret: %s\n", n)
		}
	}
	doc := queryDoc{Query: queryInfo{K: r.K, Filter: r.Filter, Model: s.Enc.ModelID(), Item: r.ItemID, Path: r.Path},
		Results: make([]queryResult, 0, len(found.Results))}
	if smp := found.Sample; smp != nil && r.Path != "" {
		kind := string(smp.Kind)
		doc.Query.Kind, doc.Query.Modality = &kind, &smp.Meta.Modality
	}
	for _, x := range found.Results {
		it := x.Item
		doc.Results = append(doc.Results, queryResult{x.Rank, it.ID, x.Score, it.Kind, it.Modality, where(it), it.Description})
	}
	if found.Vote.Labelled > 0 {
		doc.Vote, doc.Unlabelled = map[string]float64{}, &found.Vote.Unlabelled
		for _, x := range found.Vote.Shares {
			doc.Vote[x.Label] = x.Share
		}
	}
	return e.Output(doc, func(w io.Writer) {
		printResults(w, doc.Results)
		printVote(w, found.Vote)
	})
}

// printVote prints the results' vote in one line, nothing when no result
// is labelled.
func printVote(w io.Writer, v library.VoteResult) {
	if v.Labelled == 0 {
		return
	}
	parts := make([]string, len(v.Shares))
	for i, x := range v.Shares {
		parts[i] = fmt.Sprintf("%s %.2f", cli.Text(x.Label), x.Share)
	}
	fmt.Fprintf(w, "vote (k=%d): %s; %s\n", v.K, strings.Join(parts, ", "), withoutLabel(v.Unlabelled))
}

// withoutLabel says how many neighbours carry no label.
func withoutLabel(n int) string {
	if n == 1 {
		return "1 neighbour without a label"
	}
	return fmt.Sprintf("%d neighbours without a label", n)
}

// printResults prints results as text, one line each: their strings may
// come from a department index, which anyone holding its key writes.
func printResults(w io.Writer, results []queryResult) {
	for _, x := range results {
		fmt.Fprintf(w, "%2d  %.4f  %-8s %-4s %s\n", x.Rank, x.Score, cli.Text(x.Kind), cli.Text(x.Modality), cli.Text(x.Path))
	}
}

// infoDoc is what `info --json` prints.
type infoDoc struct {
	Version string      `json:"version"`
	Model   modelInfo   `json:"model"`
	Runtime runtimeInfo `json:"runtime"`
	Library libraryInfo `json:"library"`
}

type modelInfo struct {
	Name       string  `json:"name"`
	Version    string  `json:"version"`
	ID         string  `json:"id"`
	SHA256     string  `json:"sha256"`
	Dimension  int     `json:"dimension"`
	InputShape []int64 `json:"input_shape"`
}

type runtimeInfo struct {
	ORTVersion  string            `json:"ort_version"`
	Library     string            `json:"library"`
	Provider    string            `json:"provider"`
	Available   []string          `json:"available"`
	Unavailable map[string]string `json:"unavailable"`
}

type libraryInfo struct {
	Path string `json:"path"`
	library.Stats
}

func infoCommand() cli.Command {
	return cli.Command{Name: "info", Args: "[--json]", Help: "version, model, runtime, library counts", Run: runInfo}
}

func runInfo(e *cli.Env) int { return e.ReadSession(func(s *cli.Session) int { return info(e, s) }) }

func info(e *cli.Env, s *cli.Session) int {
	st, err := s.Library().Stats()
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	m := s.Enc.Manifest()
	d := infoDoc{Version: Version, Runtime: runtimeOf(s),
		Model:   modelInfo{m.Name, m.Version, m.ID(), m.SHA256, m.Output.Dim, m.Input.Shape},
		Library: libraryInfo{Path: s.Library().Dir(), Stats: st}}
	return e.Output(d, func(w io.Writer) { printInfo(w, d) })
}

func runtimeOf(s *cli.Session) runtimeInfo {
	avail, unavail := inference.Probe()
	r := runtimeInfo{ORTVersion: s.RT.Version, Library: s.RT.Path, Provider: strings.ToUpper(s.Enc.Provider()),
		Available: make([]string, len(avail)), Unavailable: map[string]string{}}
	for i, p := range avail {
		r.Available[i] = strings.ToUpper(p)
	}
	for p, reason := range unavail {
		r.Unavailable[strings.ToUpper(p)] = reason
	}
	for p, reason := range s.Enc.ProviderNotes() { // tried for this model and failed
		r.Unavailable[strings.ToUpper(p)] = reason
	}
	return r
}

func printInfo(w io.Writer, d infoDoc) {
	fmt.Fprintf(w, "M3Ret Viewer %s\n", d.Version)
	fmt.Fprintf(w, "model:    %s (%d-d, sha256 %.12s)\n", d.Model.ID, d.Model.Dimension, d.Model.SHA256)
	fmt.Fprintf(w, "runtime:  ONNX Runtime %s, provider %s (%s)\n", d.Runtime.ORTVersion, d.Runtime.Provider, d.Runtime.Library)
	for _, p := range cli.SortedKeys(d.Runtime.Unavailable) {
		fmt.Fprintf(w, "          %s unavailable: %s\n", p, d.Runtime.Unavailable[p])
	}
	fmt.Fprintf(w, "library:  %s, %d items\n", d.Library.Path, d.Library.Items)
}
