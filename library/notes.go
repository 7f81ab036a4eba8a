package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/ingest"
	"github.com/m3ret/viewer/library/media"
)

// Notes and labels are what a radiologist writes about cases: a note on an
// item, a note (with a verdict) on a pair of a query and one of its
// results, and a label per item (a diagnosis, a class) that `m3ret eval`
// scores retrieval with. They are kept in the catalog apart from the item
// records (a re-import or a reindex never touches them), salvaged by
// Repair, and searchable from the filter box: an item's note, the notes on
// pairs where it was the result and its label are indexed with its
// metadata ("notes:calcified", "label:glioma", or plain words).
const (
	kindNote     = "note"      // key: item id
	kindPairNote = "pair-note" // key: result id, NUL, query key
	kindLabel    = "label"     // key: item id
)

// Verdict is a radiologist's judgement of a result against its query.
type Verdict string

// Verdicts a pair note may carry.
const (
	VerdictNone       Verdict = ""
	VerdictSimilar    Verdict = "similar"
	VerdictNotSimilar Verdict = "not similar"
)

// ErrVerdict is returned for a verdict that is none of the three.
var ErrVerdict = errors.New(`verdict must be "similar", "not similar" or empty`)

// Note is a note on an item (Item set) or on a query–result pair (Query
// and Result set).
type Note struct {
	Item    string    `json:"item,omitempty"`
	Query   string    `json:"query,omitempty"`  // the query's key (see QueryKey)
	Result  string    `json:"result,omitempty"` // the result's item id
	Verdict Verdict   `json:"verdict,omitempty"`
	Text    string    `json:"text"`
	Updated time.Time `json:"updated"`
}

// empty reports a note that says nothing (stored as none).
func (n Note) empty() bool { return strings.TrimSpace(n.Text) == "" && n.Verdict == VerdictNone }

// QueryKey names a query for pair notes: the item's id for an item query,
// the id the file would have as an item for a file query ("" for a region
// or a refined search: those have no pair notes).
func QueryKey(q *Query) string {
	switch {
	case q == nil || len(q.Examples) > 0:
		return ""
	case q.ItemID != "":
		return q.ItemID
	}
	return q.key
}

// Note returns an item's note (a zero Note when there is none).
func (l *Library) Note(id string) (Note, error) {
	var n Note
	err := l.annotation(kindNote, id, &n)
	return n, err
}

// SetNote sets an item's note; empty text removes it.
func (l *Library) SetNote(ctx context.Context, id, text string) error {
	n := Note{Item: id, Text: strings.TrimSpace(text), Updated: time.Now().UTC()}
	return l.setAnnotated(ctx, id, kindNote, id, n, n.empty())
}

// PairNote returns the note on a query–result pair (zero when none).
func (l *Library) PairNote(query, result string) (Note, error) {
	var n Note
	err := l.annotation(kindPairNote, pairKey(query, result), &n)
	return n, err
}

// SetPairNote sets the note on the pair n names; a note with no text and
// no verdict removes it.
func (l *Library) SetPairNote(ctx context.Context, n Note) error {
	if n.Query == "" || n.Result == "" {
		return errors.New("pair note: a query and a result are needed")
	}
	switch n.Verdict {
	case VerdictNone, VerdictSimilar, VerdictNotSimilar:
	default:
		return fmt.Errorf("pair note: %w", ErrVerdict)
	}
	n.Item, n.Text, n.Updated = "", strings.TrimSpace(n.Text), time.Now().UTC()
	return l.setAnnotated(ctx, n.Result, kindPairNote, pairKey(n.Query, n.Result), n, n.empty())
}

// PairNotes returns the notes on a query's pairs, by result id.
func (l *Library) PairNotes(query string) (map[string]Note, error) {
	all, err := l.pairNotes()
	if err != nil {
		return nil, err
	}
	out := map[string]Note{}
	for _, n := range all {
		if n.Query == query {
			out[n.Result] = n
		}
	}
	return out, nil
}

// Label returns an item's label ("" when none).
func (l *Library) Label(id string) (string, error) {
	var s string
	err := l.annotation(kindLabel, id, &s)
	return s, err
}

// SetLabel sets an item's label; an empty one removes it.
func (l *Library) SetLabel(ctx context.Context, id, label string) error {
	label = strings.TrimSpace(label)
	return l.setAnnotated(ctx, id, kindLabel, id, label, label == "")
}

// Labels returns every labelled item's label, by item id.
func (l *Library) Labels() (map[string]string, error) {
	docs, err := l.cat.Annotations(kindLabel)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(docs))
	for id, doc := range docs {
		var s string
		if json.Unmarshal(doc, &s) == nil && s != "" {
			out[id] = s
		}
	}
	return out, nil
}

func pairKey(query, result string) string { return result + "\x00" + query }

// annotation reads one annotation document into v (left as is when none).
func (l *Library) annotation(kind, key string, v any) error {
	doc, err := l.cat.Annotation(kind, key)
	if err != nil || doc == nil {
		return err
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return fmt.Errorf("%s of %s: %w", kind, key, err)
	}
	return nil
}

// setAnnotated stores (or, with remove, deletes) an annotation about item
// id, which must be in the library, then indexes the item again with it.
func (l *Library) setAnnotated(ctx context.Context, id, kind, key string, v any, remove bool) error {
	return l.writing(ctx, func() error {
		it, err := l.cat.Get(id)
		if err != nil {
			return fmt.Errorf("item %s: %w", id, err)
		}
		var doc []byte
		if !remove {
			if doc, err = json.Marshal(v); err != nil {
				return err
			}
		}
		annGen, err := l.cat.SetIndexedAnnotation(kind, key, doc)
		if err != nil {
			return fmt.Errorf("store %s: %w", kind, err)
		}
		return l.indexAnnotated(it, annGen)
	})
}

func (l *Library) pairNotes() ([]Note, error) {
	docs, err := l.cat.Annotations(kindPairNote)
	if err != nil {
		return nil, err
	}
	out := make([]Note, 0, len(docs))
	for _, doc := range docs {
		var n Note
		if json.Unmarshal(doc, &n) == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.Before(out[j].Updated) })
	return out, nil
}

// userText is what the metadata index holds of what users wrote about
// one item.
type userText struct {
	notes    string
	verdicts []string
	label    string
}

// userTexts returns, by item id, what users wrote: notes (the item's own,
// and those on pairs where it was the result), those pairs' verdicts, and
// labels.
func (l *Library) userTexts() (map[string]*userText, error) {
	out := map[string]*userText{}
	at := func(id string) *userText {
		if out[id] == nil {
			out[id] = &userText{}
		}
		return out[id]
	}
	docs, err := l.cat.Annotations(kindNote)
	if err != nil {
		return nil, err
	}
	for id, doc := range docs {
		var n Note
		if json.Unmarshal(doc, &n) == nil {
			at(id).notes = n.Text
		}
	}
	pairs, err := l.pairNotes()
	if err != nil {
		return nil, err
	}
	for _, n := range pairs {
		u := at(n.Result)
		u.notes = strings.TrimSpace(u.notes + "\n" + n.Text)
		if n.Verdict != VerdictNone && !slices.Contains(u.verdicts, string(n.Verdict)) {
			u.verdicts = append(u.verdicts, string(n.Verdict))
		}
	}
	labels, err := l.Labels()
	for id, lb := range labels {
		at(id).label = lb
	}
	return out, err
}

// withUserText is docOf(it) with what users wrote about it (u may be nil).
func withUserText(it Item, u *userText) index.Doc {
	d := docOf(it)
	if u != nil {
		d.Notes, d.Verdicts, d.Label = u.notes, u.verdicts, u.label
	}
	return d
}

// AllNotes returns every note: the items' (by item id), then the pairs'
// (oldest first).
func (l *Library) AllNotes() ([]Note, error) {
	docs, err := l.cat.Annotations(kindNote)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Note
	for _, id := range ids {
		var n Note
		if json.Unmarshal(docs[id], &n) == nil {
			out = append(out, n)
		}
	}
	pairs, err := l.pairNotes()
	return append(out, pairs...), err
}

// KeyOf returns the query key (see QueryKey) of ref: a library item's id
// as it is, else the key of the file ref names.
func (l *Library) KeyOf(ctx context.Context, ref string) (string, error) {
	if has, err := l.cat.Has(ref); err != nil || has {
		return ref, err
	}
	ctx = l.scratch(ctx)
	s, err := ingest.ReadFileContext(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("read query: %w", err)
	}
	return fileKey(ctx, s, ref)
}

// fileKey is the id a decoded file would have as an item: its pair notes'
// query key.
func fileKey(ctx context.Context, s *media.Sample, path string) (string, error) {
	if s.Meta.InstanceUID != "" {
		return ItemID(s.Meta, ""), nil
	}
	h, err := fileHash(ctx, path)
	if err != nil {
		return "", fmt.Errorf("hash query: %w", err)
	}
	return ItemID(s.Meta, h), nil
}

// indexAnnotated indexes an item again with what users wrote about it.
func (l *Library) indexAnnotated(it Item, annGen uint64) error {
	gen, err := l.cat.Generation()
	if err != nil {
		return err
	}
	texts, err := l.userTexts()
	if err != nil {
		return err
	}
	d := withUserText(it, texts[it.ID])
	if err := l.meta.PutAnnotated(map[string]index.Doc{it.ID: d}, gen, annGen); err != nil {
		return fmt.Errorf("index the note: %w", err)
	}
	return nil
}

// metaCurrent reports whether a metadata index is up to date with the
// catalog (at generation gen) and with what users wrote (the annotation
// generation): a process killed between the catalog's commit and the
// index's write leaves it behind.
func (l *Library) metaCurrent(m *index.Meta, gen uint64) bool {
	have, ok := m.Generation()
	if !ok || have != gen {
		return false
	}
	annGen, err := l.cat.AnnotationGeneration()
	return err == nil && m.AnnotationGeneration() == annGen
}
