package dept

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
)

// A filter is written as for the local library, in bleve's query-string
// syntax, and translated to a Weaviate filter with the same meaning:
//
//	modality:CT                  keyword fields match the whole value
//	+body_part:CHEST -kind:video  + must, - must not
//	description:flair             words of the description
//	study_date:>="2020-01-01"     dates and numbers compare with > >= < <=
//	frames:>100  width:512
//
// As in bleve, when any clause has +, clauses without a sign do not
// filter; when none has, at least one of them must match. Wildcards,
// regular expressions, fuzzy and boosted terms are refused (ErrFilter), and
// so is patient_id: the department index holds no patient identifiers; so
// are OR, AND and NOT, which bleve would search as words.

type fieldKind int

const (
	keyword fieldKind = iota
	words
	date
	integer
	number
)

// fields maps the local index's field names to the collection's.
var fields = map[string]struct {
	prop string
	kind fieldKind
}{
	"kind": {"kind", keyword}, "modality": {"modality", keyword}, "body_part": {"bodyPart", keyword},
	"format": {"format", keyword}, "series_uid": {"seriesUid", keyword}, "description": {"description", words},
	"study_date": {"studyDate", date}, "width": {"width", integer}, "height": {"height", integer},
	"frames": {"frames", integer}, "volumes": {"volumes", integer}, "spacing_x": {"spacingX", number},
	"spacing_y": {"spacingY", number}, "spacing_z": {"spacingZ", number}, "frame_time_ms": {"frameTimeMs", number},
	"duration_s": {"durationS", number},
}

// bareFields are searched by a term without a field name.
var bareFields = []string{"description", "modality", "body_part", "kind", "format"}

// FilterError is a filter the department index cannot run, said as the
// local index says a bad filter (filter "…": why). It matches ErrFilter.
type FilterError struct {
	Filter string // as typed
	Reason string
}

func (e *FilterError) Error() string { return fmt.Sprintf("filter %q: %s", e.Filter, e.Reason) }

// Unwrap lets errors.Is(err, ErrFilter) match.
func (e *FilterError) Unwrap() error { return ErrFilter }

// Filter translates a query string; nil means no filter. A query it cannot
// translate is a *FilterError.
func Filter(q string) (*filters.WhereBuilder, error) {
	w, err := translate(q)
	if err != nil {
		return nil, &FilterError{Filter: q, Reason: err.Error()}
	}
	return w, nil
}

// operators are words other query languages take for operators; here they
// would be searched as words (bleve's syntax has + and - only).
var operators = map[string]bool{"OR": true, "AND": true, "NOT": true, "||": true, "&&": true}

func translate(q string) (*filters.WhereBuilder, error) {
	toks, err := tokens(q)
	if err != nil {
		return nil, err
	}
	var must, should, not []*filters.WhereBuilder
	for _, t := range toks {
		if operators[t] {
			return nil, fmt.Errorf("%s is not an operator here: write +field:value for must, -field:value for must not; "+
				"clauses without a sign are alternatives", t)
		}
		sign := t[0]
		if sign == '+' || sign == '-' {
			t = t[1:]
		}
		w, err := clause(t)
		if err != nil {
			return nil, err
		}
		switch sign {
		case '+':
			must = append(must, w)
		case '-':
			not = append(not, w)
		default:
			should = append(should, w)
		}
	}
	if len(must) == 0 && len(should) > 0 {
		must = append(must, combine(filters.Or, should))
	}
	for _, w := range not {
		must = append(must, filters.Where().WithOperator(filters.Not).WithOperands([]*filters.WhereBuilder{w}))
	}
	if len(must) == 0 {
		return nil, nil
	}
	return combine(filters.And, must), nil
}

func combine(op filters.WhereOperator, ws []*filters.WhereBuilder) *filters.WhereBuilder {
	if len(ws) == 1 {
		return ws[0]
	}
	return filters.Where().WithOperator(op).WithOperands(ws)
}

// tokens splits a query string on spaces outside double quotes.
func tokens(q string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ' ' || r == '\t' || r == '\n') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

func clause(t string) (*filters.WhereBuilder, error) {
	name, value, ok := strings.Cut(t, ":")
	if !ok {
		value = t
	}
	if strings.ContainsAny(value, "*?~^/\\") && !strings.HasPrefix(value, "\"") {
		return nil, fmt.Errorf("%q: wildcards, regular expressions, fuzzy and boosted terms are not supported by the department index", t)
	}
	op, value := comparison(value)
	value = strings.Trim(value, "\"")
	if value == "" {
		return nil, fmt.Errorf("%q has no value", t)
	}
	if !ok {
		var any []*filters.WhereBuilder
		for _, f := range bareFields {
			w, err := test(f, filters.Equal, value)
			if err != nil {
				return nil, err
			}
			any = append(any, w)
		}
		return combine(filters.Or, any), nil
	}
	return test(name, op, value)
}

func comparison(v string) (filters.WhereOperator, string) {
	for _, c := range []struct {
		p  string
		op filters.WhereOperator
	}{{">=", filters.GreaterThanEqual}, {"<=", filters.LessThanEqual}, {">", filters.GreaterThan}, {"<", filters.LessThan}} {
		if strings.HasPrefix(v, c.p) {
			return c.op, v[len(c.p):]
		}
	}
	return filters.Equal, v
}

func test(name string, op filters.WhereOperator, value string) (*filters.WhereBuilder, error) {
	if name == "patient_id" {
		return nil, errors.New("patient_id: the department index holds no patient identifiers")
	}
	f, ok := fields[name]
	if !ok {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	w := filters.Where().WithPath([]string{f.prop}).WithOperator(op)
	switch f.kind {
	case keyword:
		if op != filters.Equal {
			return nil, fmt.Errorf("%s compares only by equality", name)
		}
		return w.WithValueText(value), nil
	case words:
		if op != filters.Equal {
			return nil, fmt.Errorf("%s compares only by equality", name)
		}
		return w.WithValueText(strings.ToLower(value)), nil
	case date:
		t, err := parseDate(value)
		if err != nil {
			return nil, fmt.Errorf("%s:%s: %v", name, value, err)
		}
		return w.WithValueDate(t), nil
	case integer:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%s is not a whole number", name, value)
		}
		return w.WithValueInt(n), nil
	default:
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%s is not a number", name, value)
		}
		return w.WithValueNumber(x), nil
	}
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want a date like 2020-01-31")
}
