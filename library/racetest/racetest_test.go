package racetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestHeavyListed: the tests that call Heavy (they skip under -race) are
// exactly those that `make test-heavy` runs without it: each in a package of
// the Makefile's HEAVY_PKGS and named in its HEAVY_TESTS, and every test of
// those packages that HEAVY_TESTS names calls Heavy. A heavy test missing
// from the list would run in neither half of `make test`.
func TestHeavyListed(t *testing.T) {
	root := moduleRoot()
	pkgs, names := makefileList(t, "HEAVY_PKGS"), makefileList(t, "HEAVY_TESTS")
	if len(names) == 0 {
		t.Fatal("Makefile: HEAVY_TESTS is empty")
	}

	type test struct{ pkg, name string }
	var calling, listed []test // tests calling Heavy; tests HEAVY_TESTS names in HEAVY_PKGS
	err := walkSource(func(path string, d fs.DirEntry) error {
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := "./" + filepath.ToSlash(rel)
		if rel == "." {
			pkg = "."
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Body == nil {
				continue
			}
			if slices.Contains(pkgs, pkg) && slices.Contains(names, fn.Name.Name) {
				listed = append(listed, test{pkg, fn.Name.Name})
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Heavy" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "racetest" {
						calling = append(calling, test{pkg, fn.Name.Name})
						return false
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calling {
		if !slices.Contains(listed, c) {
			t.Errorf("%s %s calls racetest.Heavy but is not in the Makefile's HEAVY_PKGS/HEAVY_TESTS: it would run in neither half of make test", c.pkg, c.name)
		}
	}
	for _, l := range listed {
		if !slices.Contains(calling, l) {
			t.Errorf("%s %s is named in the Makefile's HEAVY_TESTS but does not call racetest.Heavy: it runs twice", l.pkg, l.name)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(listed, func(l test) bool { return l.name == n }) {
			t.Errorf("the Makefile's HEAVY_TESTS names %s, a test in none of HEAVY_PKGS", n)
		}
	}
	t.Logf("%d heavy tests: %v", len(calling), calling)
}

// moduleRoot is the module's root folder.
func moduleRoot() string {
	root, _ := filepath.Abs("../..")
	return root
}

// makefileList is the words of the Makefile's variable name.
func makefileList(t *testing.T, name string) []string {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(moduleRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + ` :?= *(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatalf("Makefile: no %s", name)
	}
	return strings.Fields(string(m[1]))
}

// walkSource calls fn for every folder and file of the module's source:
// hidden folders, build/ and testdata/ left out.
func walkSource(fn func(path string, d fs.DirEntry) error) error {
	root := moduleRoot()
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "build" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		return fn(path, d)
	})
}
