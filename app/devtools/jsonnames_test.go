package devtools

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/library"
)

// TestJSONNamesSnakeCase (issue 19, item 5): every field of every
// developer tool's --json document has a snake_case name, as the other
// commands' documents do (a field without a json tag would print as Go
// spells it: "EfConstruction").
func TestJSONNamesSnakeCase(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for _, v := range []any{library.IndexBenchReport{}, library.DeptBenchReport{}, inference.BenchReport{},
		ingestBench{}, decodeBench{}, pacsBench{}, evalReport{}} {
		checkJSONNames(t, reflect.TypeOf(v), snake, map[reflect.Type]bool{})
	}
}

func checkJSONNames(t *testing.T, ty reflect.Type, snake *regexp.Regexp, seen map[reflect.Type]bool) {
	t.Helper()
	for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
		ty = ty.Elem()
	}
	if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() == "time" {
		return
	}
	seen[ty] = true
	for i := range ty.NumField() {
		f := ty.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if !snake.MatchString(name) {
			t.Errorf("%s.%s prints as %q; give it a snake_case json name", ty.Name(), f.Name, name)
		}
		checkJSONNames(t, f.Type, snake, seen)
	}
}
