package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deepTree makes a chain of depth folders named d under root, each level
// (root included) holding one file a.png, and a file z.png beside the
// chain. It goes through folder handles (os.Root), one level at a time, so
// that it can nest past the length the system allows for a path. It
// returns the paths of the files, shallowest first (z.png last).
func deepTree(t testing.TB, root string, depth int) []string {
	t.Helper()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFile("z.png", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var files []string
	dir := root
	for i := 0; ; i++ {
		if err := r.WriteFile("a.png", []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, dir+"/a.png")
		if i == depth {
			break
		}
		if err := r.Mkdir("d", 0o700); err != nil {
			t.Fatal(err)
		}
		next, err := r.OpenRoot("d")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		r, dir = next, dir+"/d"
	}
	r.Close()
	return append(files, root+"/z.png")
}

// TestWalkDeepLinear: a walk costs a fixed number of
// file system calls per entry whatever the depth: one open per folder, one
// read of the first bytes per file, a stat for the root (and for links
// alone). Before, each folder's path was resolved component by component
// (EvalSymlinks: an lstat per level, quadratic in the depth; a folder 5,000
// levels deep took 5 min 27 s to import).
func TestWalkDeepLinear(t *testing.T) {
	tests := []struct{ depth int }{{250}, {500}, {1000}}
	var costs []int
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.depth), func(t *testing.T) {
			root := t.TempDir()
			want := deepTree(t, root, tc.depth)
			w := walk(context.Background(), root, nil)
			if len(w.problems) != 0 || len(w.files) != len(want) {
				t.Fatalf("%d files, problems %v", len(w.files), w.problems)
			}
			folders, files := tc.depth+1, tc.depth+2
			if o := w.ops; o.opens != folders || o.heads != files || o.stats != 1 {
				t.Fatalf("%+v: want %d opens, %d heads, 1 stat (the root)", o, folders, files)
			}
			costs = append(costs, w.ops.total())
		})
	}
	for i := 1; i < len(costs); i++ { // twice as deep: twice the calls, give or take the root
		if costs[i] > 2*costs[i-1]+4 {
			t.Errorf("depth %d: %d calls, depth %d: %d: not linear", tests[i-1].depth, costs[i-1], tests[i].depth, costs[i])
		}
	}
}

// TestWalkPathLimit: past the system's path limit, the
// folder that cannot be reached is one problem that says so, the files
// above it are found, and the walk goes on with the rest of the tree
// (z.png, after the chain in lexical order).
func TestWalkPathLimit(t *testing.T) {
	root := t.TempDir()
	want := deepTree(t, root, 2500) // 2 bytes a level: past Linux's 4,096 and macOS's 1,024
	files, problems := WalkAll(root)
	if len(files) < 100 || files[len(files)-1] != root+"/z.png" {
		t.Fatalf("%d files, last %q", len(files), files[len(files)-1:])
	}
	for i, f := range files[:len(files)-1] { // the levels above the limit, all of them
		if f != want[i] {
			t.Fatalf("file %d is %s…, want %s…", i, f[:min(len(f), 80)], want[i][:min(len(want[i]), 80)])
		}
	}
	if len(problems) == 0 || len(problems) > 4 {
		t.Fatalf("%d problems, want the folder past the limit (and the last files before it)", len(problems))
	}
	for _, p := range problems {
		if !errors.Is(p.Err, ErrPathTooLong) || len(p.Path) > 8192 {
			t.Fatalf("%v", p.Err)
		}
	}
	last := problems[len(problems)-1]
	if got := last.Err.Error(); got != "folder nested too deeply (path longer than the system allows)" || filepath.Base(last.Path) != "d" {
		t.Fatalf("%s: %q", filepath.Base(last.Path), got)
	}
}

// TestWalkProgressAndCancel: found hears of every file
// as the walk finds it, and a cancelled context stops the walk where it is
// (with what was found, and ctx.Err()).
func TestWalkProgressAndCancel(t *testing.T) {
	root := t.TempDir()
	want := deepTree(t, root, 200)
	tests := []struct {
		name     string
		cancelAt int // 0: never
		files    int
	}{
		{"whole walk", 0, len(want)},
		{"cancelled at 10 files", 10, 10},
		{"cancelled before", -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelAt < 0 {
				cancel()
			}
			var heard []int
			w := walk(ctx, root, func(n int) {
				heard = append(heard, n)
				if n == tc.cancelAt {
					cancel()
				}
			})
			if len(w.files) != tc.files || len(heard) != tc.files || (tc.cancelAt != 0) != (ctx.Err() != nil) {
				t.Fatalf("%d files, heard %d times, ctx %v", len(w.files), len(heard), ctx.Err())
			}
			for i, n := range heard {
				if n != i+1 {
					t.Fatalf("heard %v, want 1, 2, 3…", heard[:i+1])
				}
			}
			if tc.cancelAt != 0 && w.ops.opens > tc.files+1 {
				t.Fatalf("%d folders opened after the cancel", w.ops.opens-tc.files)
			}
		})
	}
	if _, _, err := WalkContext(canceled(), root, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("WalkContext: %v", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// BenchmarkWalkDeep walks a chain of folders 500 and 1,000 deep: the time
// per op should double, not grow eightfold (the per-folder EvalSymlinks
// took 1.7 s and 13.5 s).
func BenchmarkWalkDeep(b *testing.B) {
	for _, depth := range []int{500, 1000} {
		root := b.TempDir()
		deepTree(b, root, depth)
		b.Run(fmt.Sprint(depth), func(b *testing.B) {
			for b.Loop() {
				if files, problems := WalkAll(root); len(problems) != 0 || !strings.HasSuffix(files[len(files)-1], "z.png") {
					b.Fatal(problems)
				}
			}
		})
	}
}

// TestJoin: the walk's join (filepath.Join without its Clean) gives a
// file system's root one separator, not two.
func TestJoin(t *testing.T) {
	sep := string(filepath.Separator)
	tests := []struct{ dir, name, want string }{
		{sep, "etc", sep + "etc"},
		{sep + "data", "x.dcm", sep + "data" + sep + "x.dcm"},
	}
	for _, tc := range tests {
		if got := join(tc.dir, tc.name); got != tc.want {
			t.Errorf("join(%q, %q) = %q, want %q", tc.dir, tc.name, got, tc.want)
		}
	}
}
