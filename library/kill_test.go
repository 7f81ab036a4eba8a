package library

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/media"
)

// killChildEnv, when set to "LIBRARY SOURCE", makes the test binary import
// SOURCE into LIBRARY (small batches, a slow fake model) and print one line
// per stored batch, instead of running the tests: the process TestKillDuringImport
// kills.
const killChildEnv = "M3RET_KILL_CHILD"

func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(killChildEnv); ok {
		lib, src, _ := strings.Cut(v, " ")
		os.Exit(killChild(lib, src))
	}
	if v, ok := os.LookupEnv(syncChildEnv); ok {
		os.Exit(syncChild(v))
	}
	if v, ok := os.LookupEnv(lockChildEnv); ok {
		os.Exit(lockChild(v))
	}
	os.Exit(m.Run())
}

// slowEmbedder is fakeEmbedder taking 2 ms a batch: storing a batch (a
// catalog commit, then the indexes) takes about as long, so kills land in
// both.
type slowEmbedder struct{ fakeEmbedder }

func (s *slowEmbedder) Embed(ctx context.Context, samples []media.Sample) ([][]float32, error) {
	time.Sleep(2 * time.Millisecond)
	return s.fakeEmbedder.Embed(ctx, samples)
}

func killChild(lib, src string) int {
	l, err := Open(lib, &slowEmbedder{fakeEmbedder{id: "fake@1"}})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	l.BatchSize = 2
	_, err = l.Import(context.Background(), []string{src}, func(done, total int) { fmt.Println("stored", done, total) })
	if err != nil {
		fmt.Println("import:", err)
		return 1
	}
	return 0
}

// TestKillDuringImport kills an import (SIGKILL) at a random batch while it
// stores, on a fresh library each time, then checks that the library
// opens, that its item count equals what an unfiltered search reaches and
// what a filtered one reaches, and that importing again completes the set
// exactly. M3RET_KILLS sets the number of kills (default 4; `make soak`
// runs 60).
func TestKillDuringImport(t *testing.T) {
	kills := 4
	if n, err := strconv.Atoi(os.Getenv("M3RET_KILLS")); err == nil && n > 0 {
		kills = n
	}
	const n = 60
	src := t.TempDir()
	for i := range n {
		writePNG(t, filepath.Join(src, fmt.Sprintf("%02d.png", i)), uint8(8+i*4))
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for k := range kills {
		lib := filepath.Join(t.TempDir(), fmt.Sprintf("lib%d", k))
		at := 1 + rng.IntN(n-2) // kill once this many files are stored, and a moment later
		killImportAt(t, lib, src, at, time.Duration(rng.IntN(4000))*time.Microsecond)
		checkAfterKill(t, lib, src, n)
	}
}

// killImportAt runs the child import and kills it delay after at least at
// files are reported stored.
func killImportAt(t *testing.T, lib, src string, at int, delay time.Duration) {
	t.Helper()
	killChildAt(t, killChildEnv, lib+" "+src, "stored", at, delay)
}

// killChildAt runs the test binary as a child (env=value makes it do the
// work instead of the tests) and kills it with SIGKILL delay after it
// printed a line "WORD DONE TOTAL" with DONE at least at.
func killChildAt(t *testing.T, env, value, word string, at int, delay time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+value)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var done, total int
		if _, err := fmt.Sscanf(sc.Text(), word+" %d %d", &done, &total); err == nil && done >= at {
			break
		}
	}
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// checkAfterKill opens a killed library, compares its counts, and resumes.
func checkAfterKill(t *testing.T, lib, src string, n int) {
	t.Helper()
	emb := &fakeEmbedder{id: "fake@1"}
	l, err := Open(lib, emb)
	if err != nil {
		t.Fatalf("the library does not open after a kill: %v", err)
	}
	defer l.Close()
	items, err := l.Items()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) > 0 {
		q, err := l.QueryItem(context.Background(), items[0].ID, 10*n, "")
		if err != nil || len(q.Results)+1 != len(items) {
			t.Fatalf("%d items, an unfiltered search reaches %d: %v", len(items), len(q.Results)+1, err)
		}
		match, err := l.Match("format:png")
		if err != nil || len(match) != len(items) {
			t.Fatalf("%d items, a filter reaches %d: %v (notes %v)", len(items), len(match), err, l.Notes())
		}
	}
	rep, err := l.Import(context.Background(), []string{src}, nil)
	if err != nil || rep.Imported+len(items) != n || len(rep.Failed) != 0 {
		t.Fatalf("resume after %d stored: %+v %v", len(items), rep, err)
	}
	if all, _ := l.Items(); len(all) != n {
		t.Fatalf("%d items after resuming, want %d", len(all), n)
	}
}
