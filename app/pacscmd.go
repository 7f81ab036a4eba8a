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
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/pacs"
)

// pacsCommands are `m3ret pacs add|list|find|pull`.
func pacsCommands() []cli.Command {
	return []cli.Command{pacsAddCommand(), pacsListCommand(), pacsFindCommand(), pacsPullCommand()}
}

func pacsAddCommand() cli.Command {
	var s cli.PACSServer
	var tokenFile, passwordFile string
	var passwordStdin bool
	return cli.Command{Name: "pacs add", Args: "NAME URL [--user U (--password-file F | --password-stdin)] [--token-file F] [--ca FILE]",
		Help: "add a DICOMweb server (its secret goes to the keyring, else a 0600 file)",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&s.User, "user", "", "HTTP basic user")
			fs.StringVar(&passwordFile, "password-file", "", "file holding the basic password")
			fs.BoolVar(&passwordStdin, "password-stdin", false, "read the basic password from standard input")
			fs.StringVar(&tokenFile, "token-file", "", "file holding a bearer token")
			fs.StringVar(&s.CAFile, "ca", "", "PEM certificates to trust besides the system's")
		},
		Valid: func(fs *flag.FlagSet) bool {
			return fs.NArg() == 2 && (s.User == "") == (passwordFile == "" && !passwordStdin) && (tokenFile == "" || s.User == "")
		},
		Run: func(e *cli.Env) int {
			s.Name, s.URL = e.Args[0], e.Args[1]
			secret, err := readSecret(tokenFile, passwordFile, passwordStdin)
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			s.Bearer = tokenFile != ""
			if err := cli.AddPACSServer(s, secret); err != nil {
				return cli.Fail(e.Stderr, err)
			}
			fmt.Fprintf(e.Stdout, "added PACS %s (%s)\n", s.Name, s.URL)
			return cli.ExitOK
		}}
}

// readSecret reads a token or password from a file or standard input.
func readSecret(tokenFile, passwordFile string, stdin bool) (string, error) {
	var b []byte
	var err error
	switch {
	case tokenFile != "":
		b, err = os.ReadFile(tokenFile)
	case passwordFile != "":
		b, err = os.ReadFile(passwordFile)
	case stdin:
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
	default:
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", errors.New("read secret: it is empty")
	}
	return secret, nil
}

func pacsListCommand() cli.Command {
	return cli.Command{Name: "pacs list", Args: "[--json]", Help: "the PACS servers added",
		Run: func(e *cli.Env) int {
			list, err := cli.PACSServers()
			if err != nil {
				return cli.Fail(e.Stderr, err)
			}
			if list == nil {
				list = []cli.PACSServer{}
			}
			return e.Output(list, func(w io.Writer) {
				for _, s := range list {
					auth := "no authentication"
					switch {
					case s.Bearer:
						auth = "bearer token in the " + s.SecretIn
					case s.User != "":
						auth = "user " + s.User + ", password in the " + s.SecretIn
					}
					fmt.Fprintf(w, "%-16s %s (%s)\n", s.Name, s.URL, auth)
				}
			})
		}}
}

func pacsFindCommand() cli.Command {
	var q pacs.Query
	var dates string
	return cli.Command{Name: "pacs find", Args: "NAME [--patient P] [--patient-id ID] [--modality CT] [--date FROM-TO] [--accession A] [--description D] [--limit N] [--offset N] [--json]",
		Help: "search studies on a PACS",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&q.PatientName, "patient", "", "patient name (DICOM wildcards * and ?)")
			fs.StringVar(&q.PatientID, "patient-id", "", "patient ID")
			fs.StringVar(&q.Modality, "modality", "", "a modality in the study (CT, MR, US …)")
			fs.StringVar(&dates, "date", "", "study date or range: YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD-, -YYYYMMDD")
			fs.StringVar(&q.Accession, "accession", "", "accession number")
			fs.StringVar(&q.Description, "description", "", "study description (wildcards)")
			fs.IntVar(&q.Limit, "limit", 100, "at most this many studies")
			fs.IntVar(&q.Offset, "offset", 0, "skip this many (the next page)")
		},
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() == 1 && q.Limit >= 0 && q.Offset >= 0 },
		Run: func(e *cli.Env) int {
			var err error
			if q.DateFrom, q.DateTo, err = pacs.ParseDates(dates); dates != "" && err != nil {
				return cli.Fail(e.Stderr, err)
			}
			return pacsFind(e, q)
		}}
}

func pacsFind(e *cli.Env, q pacs.Query) int {
	c, err := cli.OpenPACS(e.Args[0])
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	studies, err := c.FindStudies(ctx, q)
	var partial *pacs.PartialError
	if err != nil && !errors.As(err, &partial) {
		return cli.Fail(e.Stderr, err)
	}
	if studies == nil {
		studies = []pacs.Study{}
	}
	doc := map[string]any{"server": c.Name(), "studies": studies}
	if partial != nil {
		doc["partial"] = partial.Error()
	}
	code := e.Output(doc, func(w io.Writer) {
		for _, s := range studies {
			fmt.Fprintf(w, "%s  %-8s %-10s %3d series %5d inst  %-24.24s %s\n", cli.Text(s.UID), cli.Text(s.Date),
				cli.Text(strings.Join(s.Modalities, "/")), s.Series, s.Instances, cli.Text(s.Description), cli.Text(s.PatientName))
		}
	})
	if partial != nil && code == cli.ExitOK {
		// What was kept is shown; what was left out is said, and the exit
		// status tells a script the list is not whole.
		fmt.Fprintf(e.Stderr, "m3ret: %v\n", partial)
		return cli.ExitPartial
	}
	return code
}

// pullDoc is what `pacs pull --json` prints: an import's document with the
// server and study.
type pullDoc struct {
	Server string `json:"server"`
	Study  string `json:"study_uid"`
	importDoc
}

func pacsPullCommand() cli.Command {
	return cli.Command{Name: "pacs pull", Args: "NAME STUDY_UID [SERIES_UID...] [--json]",
		Help:  "retrieve a study (or some of its series) into the library",
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() >= 2 },
		Run: func(e *cli.Env) int {
			return e.Session(func(s *cli.Session) int {
				rep, code := pull(e, s, e.Args[0], e.Args[1], e.Args[2:])
				if rep == nil {
					return code
				}
				doc := pullDoc{e.Args[0], e.Args[1], newImportDoc(rep)}
				if out := e.Output(doc, func(w io.Writer) { printImport(w, rep) }); out != cli.ExitOK {
					return out
				}
				return code
			})
		}}
}

// pull retrieves from the named server and returns the report and the
// exit code it calls for (nil report: nothing to print).
func pull(e *cli.Env, s *cli.Session, server, study string, series []string) (*library.Report, int) {
	c, err := cli.OpenPACS(server)
	if err != nil {
		return nil, cli.Fail(e.Stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := s.Pull(ctx, controller.PullRequest{Client: c, StudyUID: study, Series: series}, cli.Progress(e.Stderr, "pulling"))
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.Stderr, "m3ret: pull cancelled; whole series pulled so far are kept, a later pull resumes")
		return rep, cli.ExitError
	case err != nil:
		return nil, cli.Fail(e.Stderr, err)
	case len(rep.Failed) > 0:
		return rep, cli.ExitPartial
	}
	return rep, cli.ExitOK
}
