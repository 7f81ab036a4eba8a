package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Census counts what a catalog holds.
type Census struct {
	Items      int            `json:"items"`
	Thumbnails int            `json:"thumbnails"`
	Vectors    map[string]int `json:"vectors"`     // by model
	Annotation map[string]int `json:"annotations"` // by kind (note, label, measure…)
}

func newCensus() Census {
	return Census{Vectors: map[string]int{}, Annotation: map[string]int{}}
}

// Annotations is the number of annotations of every kind.
func (c Census) Annotations() int {
	n := 0
	for _, v := range c.Annotation {
		n += v
	}
	return n
}

// count adds a pair of the bucket at path.
func (c *Census) count(path []string) {
	switch {
	case len(path) == 1 && path[0] == string(bItems):
		c.Items++
	case len(path) == 1 && path[0] == string(bThumbs):
		c.Thumbnails++
	case len(path) == 1 && strings.HasPrefix(path[0], "vec:"):
		c.Vectors[strings.TrimPrefix(path[0], "vec:")]++
	case len(path) == 2 && path[0] == string(bAnnotations):
		c.Annotation[path[1]]++
	}
}

// Equal reports whether two censuses count the same.
func (c Census) Equal(o Census) bool {
	return c.Items == o.Items && c.Thumbnails == o.Thumbnails && sameCounts(c.Vectors, o.Vectors) && sameCounts(c.Annotation, o.Annotation)
}

func sameCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// readsBack reports whether a value of the bucket at path is one the
// catalog could have written: an item record that decodes under its own
// id, an embedding of whole float32s, an annotation that is JSON.
func readsBack(path []string, k, v []byte) bool {
	switch {
	case len(path) == 1 && path[0] == string(bItems):
		var it Item
		return decodeItem(string(k), v, &it) == nil
	case len(path) == 1 && strings.HasPrefix(path[0], "vec:"):
		return len(v)%4 == 0
	case len(path) == 2 && path[0] == string(bAnnotations):
		return json.Valid(v)
	case len(path) == 1 && (path[0] == string(bInstances) || path[0] == string(bThumbs)):
		return len(v) > 0
	}
	return true
}

// Inspect checks the catalog file at path page by page, without bbolt
// and without changing it (see pages.go): both meta pages sound, every
// page of the newest tree what the tree says it is, its keys in order,
// no page reached twice, every value one the catalog could have written
// (see readsBack), the free-page list naming no page of the tree. It
// returns what the tree holds and the problems found, one line each (none:
// the catalog is sound). A full read of the file: repair runs it, not
// every open.
func Inspect(path string) (Census, []string, error) {
	census := newCensus()
	pf, err := openPageFile(path)
	if err != nil {
		return census, nil, fmt.Errorf("inspect catalog: %w", err)
	}
	defer pf.Close()
	var problems problemList
	ms := pf.metas()
	for i, m := range ms {
		if !m.valid {
			problems.add(fmt.Sprintf("header page %d is damaged", i))
		}
	}
	if !ms[0].valid && !ms[1].valid {
		return census, problems.lines(), nil
	}
	m := newest(ms)
	w := newWalker(pf, m.pgid)
	w.pair = func(path []string, k, v []byte) {
		if !readsBack(path, k, v) {
			problems.add(fmt.Sprintf("bucket %s: a value does not read back", joinPath(path)))
			return
		}
		census.count(path)
	}
	w.lost = func(path []string, _, _ []byte, why error) {
		problems.add(fmt.Sprintf("bucket %s: %v", joinPath(path), why))
	}
	w.tree(m.root)
	if err := freeProblem(pf, m, w.seen); err != nil {
		problems.add(err.Error())
	}
	return census, problems.lines(), nil
}

// freeProblem checks the free-page list against the pages of the tree.
func freeProblem(pf *pageFile, m meta, seen map[uint64]bool) error {
	free, err := pf.freePages(m)
	if err != nil {
		return err
	}
	for _, id := range free {
		if seen[id] {
			return fmt.Errorf("%w: the free-page list names page %d, which the tree uses", errPage, id)
		}
	}
	return nil
}

// problemList gathers problems, each line once with how often it came.
type problemList struct {
	order []string
	times map[string]int
}

func (p *problemList) add(line string) {
	if p.times == nil {
		p.times = map[string]int{}
	}
	if p.times[line] == 0 {
		p.order = append(p.order, line)
	}
	p.times[line]++
}

func (p *problemList) lines() []string {
	out := make([]string, 0, len(p.order))
	for _, l := range p.order {
		if n := p.times[l]; n > 1 {
			l = fmt.Sprintf("%s (%d times)", l, n)
		}
		out = append(out, l)
	}
	return out
}

func joinPath(path []string) string {
	if len(path) == 0 {
		return "(root)"
	}
	return strings.Join(path, "/")
}
