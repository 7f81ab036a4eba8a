package dept

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUpsertBoundsStrings: what sync and share write is bounded: each
// string property within its length, on one line, without control or
// bidirectional-override characters; an item id or UID of the wrong form
// is refused before anything is sent.
func TestUpsertBoundsStrings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(r *Record)
		prop    string // the property to look at
		want    string // its value as written ("" for: bounded only)
		refused bool
	}{
		{name: "5 MB description", edit: func(r *Record) { r.Description = strings.Repeat("ab ", 5<<20/3) }, prop: "description"},
		{name: "name with a line break", edit: func(r *Record) { r.Server = "main\nFAKE" }, prop: "server", want: "main FAKE"},
		{name: "terminal escape", edit: func(r *Record) { r.Modality = "CT\x1b[2J\x07" }, prop: "modality", want: "CT[2J"},
		{name: "bidi override", edit: func(r *Record) { r.Description = "chest \u202egpj.exe" }, prop: "description", want: "chest gpj.exe"},
		{name: "invalid UTF-8", edit: func(r *Record) { r.BodyPart = "HEAD\xff" }, prop: "bodyPart", want: "HEAD\uFFFD"},
		{name: "multibyte cut at a boundary", edit: func(r *Record) { r.Kind = strings.Repeat("é", 100) }, prop: "kind", want: strings.Repeat("é", 16)},
		{name: "path as study UID", edit: func(r *Record) { r.StudyUID = "../../etc/passwd" }, refused: true},
		{name: "item id with a slash", edit: func(r *Record) { r.ItemID = "a/b" }, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t)
			ix := f.open(t)
			r := record(1)
			tc.edit(&r)
			err := ix.Upsert(context.Background(), []Record{r}, [][]float32{{1, 0, 0, 0}})
			f.mu.Lock()
			defer f.mu.Unlock()
			if tc.refused {
				if !errors.Is(err, ErrBadObject) || len(f.batches) != 0 || strings.Contains(err.Error(), "passwd") {
					t.Fatalf("upsert: %v, %d batches sent; want ErrBadObject (without the value), nothing sent", err, len(f.batches))
				}
				return
			}
			if err != nil || len(f.batches) != 1 {
				t.Fatalf("upsert: %v, %d batches", err, len(f.batches))
			}
			fields := f.batches[0].GetObjects()[0].GetProperties().GetNonRefProperties().GetFields()
			for _, p := range properties {
				s := fields[p.name].GetStringValue()
				if p.max > 0 && len(s) > p.max || !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r\t\x1b\u202e") {
					t.Errorf("%s written as %d bytes %.40q (bound %d)", p.name, len(s), s, p.max)
				}
			}
			if got := fields[tc.prop].GetStringValue(); tc.want != "" && got != tc.want {
				t.Errorf("%s written as %q, want %q", tc.prop, got, tc.want)
			}
		})
	}
}
