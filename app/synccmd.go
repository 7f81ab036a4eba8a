package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// syncCommand is the department's sync worker: PACS → embeddings →
// department index.
func syncCommand() cli.Command {
	var server string
	var o library.SyncOptions
	var d library.DeptOptions
	return cli.Command{Name: "sync", Args: "--pacs NAME --index weaviate://HOST:PORT/COLLECTION [--since YYYYMMDD] [--keep] [--replication N] [--json]",
		Help: "index what is new on a PACS into a department index (pull, embed, upsert; resumable)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&server, "pacs", "", "the PACS to index (a name from 'm3ret pacs add')")
			fs.StringVar(&o.Since, "since", "", "first study date to look at (default: where the last complete sync stopped)")
			fs.BoolVar(&o.Keep, "keep", false, "keep the pulled series in the library (default: removed once indexed)")
			fs.IntVar(&d.Replication, "replication", 0, "replication factor of a new collection (default: 3 on 3+ nodes, 2 on 2, 1 on 1)")
			fs.BoolVar(&d.AllowUnreplicated, "allow-unreplicated", false, "allow replication factor 1 on a multi-node cluster (not recommended)")
			fs.IntVar(&d.EF, "ef", 0, "search beam (ef) of a new collection (default 256)")
		},
		Valid: func(fs *flag.FlagSet) bool { return server != "" && fs.NArg() == 0 },
		Run: func(e *cli.Env) int {
			if !library.IsDeptURL(e.Index) {
				return cli.Fail(e.Stderr, fmt.Errorf("sync needs --index weaviate://HOST:PORT/COLLECTION"))
			}
			return e.Session(func(s *cli.Session) int { return runSync(e, s, server, o, d) })
		}}
}

func runSync(e *cli.Env, s *cli.Session, server string, o library.SyncOptions, d library.DeptOptions) int {
	pc, err := cli.OpenPACS(server)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d.Create = true
	idx, err := s.OpenDept(ctx, &e.Common, e.Stderr, d)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	defer idx.Close()
	rep, err := s.Sync(ctx, pc, idx, o, cli.Progress(e.Stderr, "syncing studies"))
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.Stderr, "m3ret: sync cancelled; what was indexed stays, the next sync resumes")
		return cli.ExitError
	}
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	code := e.Output(rep, func(w io.Writer) {
		fmt.Fprintf(w, "%d studies, %d series: %d items indexed, %d series already there, %d failed; next sync from %s\n",
			rep.Studies, rep.Series, rep.Upserted, rep.Skipped, len(rep.Failed), cli.Text(cli.Or(rep.Watermark, "the start")))
		for _, f := range rep.Failed {
			fmt.Fprintf(w, "  failed: %s: %s\n", cli.Text(f.Path), cli.Text(f.Error))
		}
	})
	if code == cli.ExitOK && len(rep.Failed) > 0 {
		return cli.ExitPartial
	}
	return code
}

// indexKeyCommand saves the department index API key.
func indexKeyCommand() cli.Command {
	var keyFile string
	var clear bool
	return cli.Command{Name: "index key", Args: "(--key-file FILE | --clear)",
		Help: "save the department index API key (in the keyring, else a file readable by you alone)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyFile, "key-file", "", "a file holding the API key")
			fs.BoolVar(&clear, "clear", false, "forget the saved key")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 && (keyFile != "") != clear },
		Run: func(e *cli.Env) int {
			key := ""
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return cli.Fail(e.Stderr, err)
				}
				if key = strings.TrimSpace(string(b)); key == "" {
					return cli.Fail(e.Stderr, fmt.Errorf("%s holds no key", keyFile))
				}
			}
			where, err := cli.SetDeptKey(key)
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			if key == "" {
				fmt.Fprintln(e.Stdout, "department index key forgotten")
			} else {
				fmt.Fprintf(e.Stdout, "department index key saved (%s)\n", map[string]string{"keyring": "in the keyring", "file": "in a file readable by you alone"}[where])
			}
			return cli.ExitOK
		}}
}

// shareCommand puts a workstation's own cases (imported from disk) into
// the department index.
func shareCommand() cli.Command {
	var filter string
	var d library.DeptOptions
	return cli.Command{Name: "share", Args: "--index weaviate://HOST:PORT/COLLECTION [--filter Q] [--json]",
		Help: "put this library's cases into a department index (metadata and vectors; no patient names, IDs or paths)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&filter, "filter", "", "only the items this query matches, e.g. 'modality:CT'")
			fs.IntVar(&d.Replication, "replication", 0, "replication factor of a new collection (default: 3 on 3+ nodes, 2 on 2, 1 on 1)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 0 },
		Run: func(e *cli.Env) int {
			if !library.IsDeptURL(e.Index) {
				return cli.Fail(e.Stderr, fmt.Errorf("share needs --index weaviate://HOST:PORT/COLLECTION"))
			}
			return e.ReadSession(func(s *cli.Session) int { return runShare(e, s, filter, d) })
		}}
}

func runShare(e *cli.Env, s *cli.Session, filter string, d library.DeptOptions) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d.Create = true
	idx, err := s.OpenDept(ctx, &e.Common, e.Stderr, d)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	defer idx.Close()
	ids, err := s.Library().Shareable(filter)
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	if err := idx.Upsert(ctx, s.Library(), ids, cli.Progress(e.Stderr, "sharing")); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	doc := struct {
		Shared int `json:"shared"`
	}{len(ids)}
	return e.Output(doc, func(w io.Writer) { fmt.Fprintf(w, "%d items shared\n", len(ids)) })
}
