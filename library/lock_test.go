package library

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockChildEnv, when set to "MODE LIBRARY [SOURCE]", makes the test binary
// a second m3ret on the library instead of running the tests:
//
//	hold-read, hold-write  open it (Read, Write), print "open", keep it
//	                       open until stdin closes
//	query                  open it to read, search with its first item,
//	                       keep it open until stdin closes, print "found N"
//	import                 open it to write, import SOURCE, print
//	                       "imported N"
//
// Each prints "waiting" when it starts waiting for the library.
const lockChildEnv = "M3RET_LOCK_CHILD"

func lockChild(v string) int {
	args := strings.Fields(v)
	mode, dir := args[0], args[1]
	access := Read
	if mode == "hold-write" || mode == "import" {
		access = Write
	}
	l, err := OpenWith(context.Background(), dir, &fakeEmbedder{id: "fake@1"},
		OpenOptions{Access: access, Waiting: func() { fmt.Println("waiting") }})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer l.Close()
	fmt.Println("open")
	switch mode {
	case "query":
		items, err := l.Items()
		if err != nil || len(items) == 0 {
			fmt.Println("items:", len(items), err)
			return 1
		}
		q, err := l.QueryItem(context.Background(), items[0].ID, 3, "format:png")
		if err != nil {
			fmt.Println("query:", err)
			return 1
		}
		io.Copy(io.Discard, os.Stdin)
		fmt.Println("found", len(q.Results))
	case "import":
		rep, err := l.Import(context.Background(), args[2:], nil)
		if err != nil {
			fmt.Println("import:", err)
			return 1
		}
		fmt.Println("imported", rep.Imported)
	default:
		io.Copy(io.Discard, os.Stdin)
	}
	return 0
}

// child is a second process on a library (see lockChildEnv).
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []string
	seen  chan string // every line, as printed
	done  chan error
}

func startChild(t *testing.T, mode, dir string, more ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+strings.Join(append([]string{mode, dir}, more...), " "))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: in, seen: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
			c.seen <- sc.Text()
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() { in.Close(); cmd.Process.Kill() })
	return c
}

// await waits for the child to print want (a line's start), failing the
// test on anything else that ends it or after d.
func (c *child) await(t *testing.T, want string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case line := <-c.seen:
			if strings.HasPrefix(line, want) {
				return
			}
		case err := <-c.done:
			c.done <- err
			t.Fatalf("the child ended (%v) without printing %q: %q", err, want, c.output())
		case <-timeout:
			t.Fatalf("no %q from the child after %v: %q", want, d, c.output())
		}
	}
}

// release closes the child's stdin and waits for it to exit 0.
func (c *child) release(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("child: %v: %q", err, c.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the child did not end: %q", c.output())
	}
}

// count is how many lines the child printed that start with s.
func (c *child) count(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if strings.HasPrefix(l, s) {
			n++
		}
	}
	return n
}

func (c *child) output() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// lockLibrary makes a library of n pictures, closed, and returns its
// folder and a folder of m more pictures to import.
func lockLibrary(t *testing.T, n, m int) (dir, more string) {
	t.Helper()
	src, more := t.TempDir(), t.TempDir()
	for i := range n {
		writePNG(t, filepath.Join(src, fmt.Sprintf("%02d.png", i)), uint8(10+i*8))
	}
	for i := range m {
		writePNG(t, filepath.Join(more, fmt.Sprintf("m%02d.png", i)), uint8(14+i*8))
	}
	dir = filepath.Join(t.TempDir(), "lib")
	l, err := Open(dir, &fakeEmbedder{id: "fake@1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Import(context.Background(), []string{src}, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, more
}

// TestReadersShareTheLibrary: while one process reads the library, four
// more query it at once, each holding it open until all have searched:
// none waits, all find results.
func TestReadersShareTheLibrary(t *testing.T) {
	dir, _ := lockLibrary(t, 6, 0)
	holder := startChild(t, "hold-read", dir)
	holder.await(t, "open", 20*time.Second)
	var queries []*child
	for range 4 {
		queries = append(queries, startChild(t, "query", dir))
	}
	for _, q := range queries { // all four are open at once
		q.await(t, "open", 20*time.Second)
	}
	for _, q := range queries {
		q.release(t)
		if q.count("found 3") != 1 || q.count("waiting") != 0 {
			t.Fatalf("a query beside other readers: %q", q.output())
		}
	}
	holder.release(t)
}

// TestImportWaitsForReader: an import started while another process reads
// the library says once that it waits, does not fail, and imports once
// the reader is done.
func TestImportWaitsForReader(t *testing.T) {
	dir, more := lockLibrary(t, 4, 3)
	reader := startChild(t, "hold-read", dir)
	reader.await(t, "open", 20*time.Second)
	imp := startChild(t, "import", dir, more)
	imp.await(t, "waiting", 20*time.Second)
	time.Sleep(2500 * time.Millisecond) // past the 2 s after which an import used to fail
	if imp.count("open") != 0 {
		t.Fatalf("the import opened the library while another process read it: %q", imp.output())
	}
	start := time.Now()
	reader.release(t)
	imp.await(t, "imported 3", 20*time.Second)
	t.Logf("the import went on %v after the reader closed", time.Since(start))
	imp.release(t)
	if n := imp.count("waiting"); n != 1 {
		t.Fatalf("waiting said %d times: %q", n, imp.output())
	}
}

// TestReaderWaitsForWriter: a query started while another process changes
// the library waits for it (said once), then searches.
func TestReaderWaitsForWriter(t *testing.T) {
	dir, _ := lockLibrary(t, 4, 0)
	writer := startChild(t, "hold-write", dir)
	writer.await(t, "open", 20*time.Second)
	q := startChild(t, "query", dir)
	q.await(t, "waiting", 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	if q.count("open") != 0 {
		t.Fatalf("the query opened the library while another process wrote it: %q", q.output())
	}
	writer.release(t)
	q.await(t, "open", 20*time.Second)
	q.release(t)
	if q.count("found 3") != 1 || q.count("waiting") != 1 {
		t.Fatalf("query after the writer: %q", q.output())
	}
}

// TestWaitCancelled: a wait for the library ends promptly when its context
// does, with an error that says why.
func TestWaitCancelled(t *testing.T) {
	dir, _ := lockLibrary(t, 2, 0)
	writer := startChild(t, "hold-write", dir)
	writer.await(t, "open", 20*time.Second)
	for _, access := range []Access{Read, Write, Shared} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		waited := 0
		start := time.Now()
		l, err := OpenWith(ctx, dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: access, Waiting: func() { waited++ }})
		cancel()
		if err == nil {
			l.Close()
			t.Fatalf("access %d: opened a library another process writes", access)
		}
		if took := time.Since(start); !errors.Is(err, ErrLocked) || !errors.Is(err, context.DeadlineExceeded) || took > 2*time.Second || waited != 1 {
			t.Fatalf("access %d: %v after %v, waiting said %d times", access, err, took, waited)
		}
		if !strings.Contains(err.Error(), "in use by another m3ret") {
			t.Fatalf("unclear error: %v", err)
		}
	}
	writer.release(t)
	if _, err := Repair(dir); err != nil { // the lock is free again
		t.Fatal(err)
	}
}

// TestSharedLibrary: a library open Shared (the window's) lets other
// processes read it; its own import waits for them (said once) while it
// keeps reading, then imports; other processes read what it imported.
func TestSharedLibrary(t *testing.T) {
	dir, more := lockLibrary(t, 4, 3)
	win, err := OpenWith(context.Background(), dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Shared})
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	reader := startChild(t, "query", dir)
	reader.await(t, "open", 20*time.Second)
	waiting := make(chan struct{}, 10)
	win.SetWaiting(func() { waiting <- struct{}{} })
	type result struct {
		rep *Report
		err error
	}
	imported := make(chan result, 1)
	go func() {
		rep, err := win.Import(context.Background(), []string{more}, nil)
		imported <- result{rep, err}
	}()
	select {
	case <-waiting:
	case r := <-imported:
		t.Fatalf("the window imported while another process read: %+v %v", r.rep, r.err)
	case <-time.After(20 * time.Second):
		t.Fatal("the window's import neither waited nor ended")
	}
	for range 5 { // the window reads on while it waits
		if items, err := win.Items(); err != nil || len(items) != 4 {
			t.Fatalf("the window reading while it waits: %d items, %v", len(items), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	reader.release(t)
	r := <-imported
	if r.err != nil || r.rep.Imported != 3 || len(waiting) != 0 {
		t.Fatalf("the window's import after the reader: %+v %v (waiting said %d more times)", r.rep, r.err, len(waiting))
	}
	q := startChild(t, "query", dir) // another process reads what the window imported
	q.await(t, "open", 20*time.Second)
	q.release(t)
	if q.count("found 3") != 1 || q.count("waiting") != 0 {
		t.Fatalf("a query beside the window after its import: %q", q.output())
	}
	if items, err := win.Items(); err != nil || len(items) != 7 {
		t.Fatalf("the window after its import: %d items, %v", len(items), err)
	}
}

// TestReaderWritesNothing: a reader of a library whose indexes are stale
// rebuilds them in memory, says so, searches, and leaves every file of
// the library as it was.
func TestReaderWritesNothing(t *testing.T) {
	dir, _ := lockLibrary(t, 5, 0)
	if err := os.RemoveAll(filepath.Join(dir, "meta.bleve")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, vectorsFile)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	l, err := OpenWith(context.Background(), dir, &fakeEmbedder{id: "fake@1"}, OpenOptions{Access: Read})
	if err != nil {
		t.Fatal(err)
	}
	items, _ := l.Items()
	match, err := l.Match("format:png")
	if err != nil || len(match) != 5 || len(items) != 5 {
		t.Fatalf("reader over stale indexes: %d items, %d matched, %v", len(items), len(match), err)
	}
	if q, err := l.QueryItem(context.Background(), items[0].ID, 10, ""); err != nil || len(q.Results) != 4 {
		t.Fatalf("reader's search: %v", err)
	}
	if notes := strings.Join(l.Notes(), "; "); !strings.Contains(notes, "memory") {
		t.Fatalf("notes %q do not say the indexes were rebuilt in memory", notes)
	}
	if err := l.Remove(items[0].ID); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("a reader's Remove: %v, want ErrReadOnly", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, dir); after != before {
		t.Fatalf("a reader changed the library folder:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot lists a folder's files with their sizes and times.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %d %v; ", p[len(dir):], info.Size(), info.ModTime().UnixNano(), info.Mode())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
