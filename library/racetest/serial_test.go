package racetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/m3ret/viewer"

// concurrentImports are the imports that share memory between goroutines
// or start them. os/exec is not one: its goroutines copy a child's output
// into the writers given, and Wait (which Run and Output call) returns only
// once they are done; reading the output sooner takes a goroutine of ours.
var concurrentImports = []string{"sync", "sync/atomic", "golang.org/x/sync/errgroup", "golang.org/x/sync/semaphore"}

// TestSerialPackages: the packages the Makefile's SERIAL_PKGS lists run
// without -race in make test (test-norace), so none may hold code the race
// detector could find a race in. Each listed package, its tests, and every
// package of this module it imports (transitively) start no goroutine (no
// go statement, no time.AfterFunc or context.AfterFunc), use no channel,
// and import none of concurrentImports. Packages that
// qualify but are not listed are logged: listing them makes make test
// quicker.
func TestSerialPackages(t *testing.T) {
	root := moduleRoot()
	listed := makefileList(t, "SERIAL_PKGS")
	c := &closure{root: root, seen: map[string][]string{}}
	for _, p := range listed {
		if why := c.concurrent(strings.TrimPrefix(p, "./"), true); len(why) > 0 {
			t.Errorf("%s is in SERIAL_PKGS (run without -race) but %s", p, strings.Join(why, "; "))
		}
	}
	var could []string
	_ = walkSource(func(path string, d fs.DirEntry) error {
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if tests, _ := filepath.Glob(filepath.Join(path, "*_test.go")); len(tests) > 0 &&
			!slices.Contains(listed, "./"+rel) && len(c.concurrent(rel, true)) == 0 {
			could = append(could, "./"+rel)
		}
		return nil
	})
	if len(could) > 0 {
		t.Logf("also serial, not listed: %v", could)
	}
}

// closure answers, for a package directory (relative to the module root),
// why its code or that of the module packages it imports is concurrent.
type closure struct {
	root string
	seen map[string][]string // non-test code of a package: why it is concurrent
}

func (c *closure) concurrent(dir string, withTests bool) []string {
	if why, ok := c.seen[dir]; ok && !withTests {
		return why
	}
	if !withTests {
		c.seen[dir] = nil // an import cycle cannot happen; this guards the walk
	}
	files, _ := filepath.Glob(filepath.Join(c.root, dir, "*.go"))
	var why []string
	for _, path := range files {
		test := strings.HasSuffix(path, "_test.go")
		if test && !withTests {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return []string{err.Error()}
		}
		name, _ := filepath.Rel(c.root, path)
		for _, s := range f.Imports {
			imp, _ := strconv.Unquote(s.Path.Value)
			if slices.Contains(concurrentImports, imp) {
				why = append(why, name+" imports "+imp)
			}
			if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
				for _, w := range c.concurrent(rest, false) {
					why = append(why, "(through "+imp+") "+w)
				}
			}
		}
		why = append(why, statements(name, f)...)
	}
	slices.Sort(why)
	why = slices.Compact(why)
	if !withTests {
		c.seen[dir] = why
	}
	return why
}

// statements lists the goroutines, channels and deferred callbacks in f.
func statements(name string, f *ast.File) []string {
	var why []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			why = append(why, name+" has a go statement")
		case *ast.ChanType:
			why = append(why, name+" uses a channel")
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && x.Sel.Name == "AfterFunc" && (id.Name == "time" || id.Name == "context") {
				why = append(why, name+" calls "+id.Name+".AfterFunc")
			}
		}
		return true
	})
	return why
}
