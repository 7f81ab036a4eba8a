package devtools

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library/pacs"
)

// pacsBench is what `m3ret bench pacs` reports: a pull (retrieve and
// import) of a study into a scratch library, against importing the same
// files from a local folder into another, in the same run.
type pacsBench struct {
	Server      string  `json:"server"`
	Instances   int     `json:"instances"`
	MB          float64 `json:"mb"`
	Items       int     `json:"items"`
	PullSeconds float64 `json:"pull_seconds"`
	// RetrieveSeconds is the download alone (WADO-RS to disk), in a third
	// step: the pull's time less it is the import's share.
	RetrieveSeconds float64 `json:"retrieve_seconds"`
	LocalSeconds    float64 `json:"local_seconds"`
	// Ratio is the local import's time over the pull's (1: pulling costs
	// no more than importing files already on disk).
	Ratio float64 `json:"ratio"`
	// PeakRSSMB is the process's peak resident memory after the pull
	// (Linux; 0 elsewhere).
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

func benchPACSCommand() cli.Command {
	return cli.Command{Name: "bench pacs", Args: "NAME STUDY_UID [SERIES_UID...] [--json]",
		Help:  "pull and import from a PACS, against importing the same files locally",
		Valid: func(fs *flag.FlagSet) bool { return fs.NArg() >= 2 },
		Run:   runBenchPACS}
}

func runBenchPACS(e *cli.Env) int {
	c, err := cli.OpenPACS(e.Args[0])
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	scratch, err := os.MkdirTemp("", "m3ret-bench-pacs-")
	if err != nil {
		return cli.Fail(e.Stderr, err)
	}
	defer os.RemoveAll(scratch)
	r := &pacsBench{Server: c.Name()}
	pulled := filepath.Join(scratch, "pulled")
	code := timedSession(e, pulled, &r.PullSeconds, func(ctx context.Context, s *cli.Session) error {
		rep, err := s.Pull(ctx, controller.PullRequest{Client: c, StudyUID: e.Args[1], Series: e.Args[2:]}, nil)
		if err == nil && len(rep.Failed) > 0 {
			err = fmt.Errorf("pull: %s: %s", rep.Failed[0].Path, rep.Failed[0].Error)
		}
		r.Items = rep.Imported
		return err
	})
	if code != cli.ExitOK {
		return code
	}
	r.PeakRSSMB = peakRSSMB()
	r.Instances, r.MB = countFiles(filepath.Join(pulled, "pacs"))
	code = timedSession(e, filepath.Join(scratch, "local"), &r.LocalSeconds, func(ctx context.Context, s *cli.Session) error {
		_, err := s.Import(ctx, []string{filepath.Join(pulled, "pacs")}, nil)
		return err
	})
	if code != cli.ExitOK {
		return code
	}
	if r.RetrieveSeconds, err = timeRetrieve(c, e.Args[1], e.Args[2:], filepath.Join(scratch, "retrieved")); err != nil {
		return cli.Fail(e.Stderr, err)
	}
	r.Ratio = r.LocalSeconds / max(r.PullSeconds, 1e-9)
	return e.Output(r, func(w io.Writer) {
		fmt.Fprintf(w, "%d instances, %.1f MB, %d items from %s\n", r.Instances, r.MB, r.Items, r.Server)
		fmt.Fprintf(w, "pull + import %.2f s (download alone %.2f s), local import %.2f s: ratio %.2f× (local time / pull time); peak RSS %.0f MB\n",
			r.PullSeconds, r.RetrieveSeconds, r.LocalSeconds, r.Ratio, r.PeakRSSMB)
	})
}

// timeRetrieve times downloading the series (all of the study's when none
// is named) without importing them.
func timeRetrieve(c *pacs.Client, study string, series []string, dir string) (float64, error) {
	ctx := context.Background()
	start := time.Now()
	if len(series) == 0 {
		_, err := c.Retrieve(ctx, study, "", dir, nil)
		return time.Since(start).Seconds(), err
	}
	for i, s := range series {
		if _, err := c.Retrieve(ctx, study, s, filepath.Join(dir, strconv.Itoa(i)), nil); err != nil {
			return 0, err
		}
	}
	return time.Since(start).Seconds(), nil
}

// timedSession opens a library at dir, times fn on it, and closes it.
// With $M3RET_CPUPROFILE_DIR set, a CPU profile of fn lands there, named
// after dir.
func timedSession(e *cli.Env, dir string, secs *float64, fn func(context.Context, *cli.Session) error) int {
	env := *e
	env.Library = dir
	return env.Session(func(s *cli.Session) int {
		if pd := os.Getenv("M3RET_CPUPROFILE_DIR"); pd != "" {
			if f, err := os.Create(filepath.Join(pd, filepath.Base(dir)+".prof")); err == nil {
				pprof.StartCPUProfile(f)
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
		start := time.Now()
		if err := fn(context.Background(), s); err != nil {
			return cli.Fail(e.Stderr, err)
		}
		*secs = time.Since(start).Seconds()
		return cli.ExitOK
	})
}

// countFiles counts the files under dir and their megabytes.
func countFiles(dir string) (int, float64) {
	n, size := 0, int64(0)
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n, size = n+1, size+info.Size()
			}
		}
		return nil
	})
	return n, float64(size) / 1e6
}

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
