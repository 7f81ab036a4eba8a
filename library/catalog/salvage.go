package catalog

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
)

// Salvaged is what Salvage wrote into the new catalog.
type Salvaged struct {
	Census
	// LibraryID is the library id the new catalog carries.
	LibraryID string
	// Older counts the values read from an older version of the tree, for
	// key ranges the newest could not give.
	Older int
	// Scanned counts the item records and thumbnails found by scanning
	// the file's pages, for ranges no version of the tree gave.
	Scanned int
	// Rekeyed counts the values whose keys a damaged page scrambled, put
	// back under the key their contents name (see SalvageOptions.KeyOf).
	Rekeyed int
	// Unread names the buckets ("items", "annotations/label"…) with key
	// ranges that neither the newest version of the tree nor an older one
	// gave whole: what the scan did not give back there is lost.
	Unread []string
	// Model is the model the catalog's settings name.
	Model string
	// Problems says what could not be read, one line each.
	Problems []string
}

// SalvageOptions say what Salvage needs to know of the library.
type SalvageOptions struct {
	// LibraryID is the library folder's id ("" none): a catalog carrying
	// another is refused; one whose id was lost takes it.
	LibraryID string
	// KeyOf returns the key an annotation document of kind belongs under,
	// read from the document ("" when it does not name one): a document
	// whose key a damaged page scrambled is put back under it. Item
	// records name their own (their id).
	KeyOf func(kind string, doc []byte) string
}

// Salvage reads what it can of the damaged catalog at path, without
// changing it, and writes it into a new catalog at to (made afresh). It
// reads the pages itself (see pages.go), so no damage panics: it takes
// the newest version of the catalog's tree it finds, by the transaction id
// each version carries in its root (see stamp), even one whose meta page
// is lost; what that version cannot give (a damaged page) it reads from
// older versions still in the file, then from item records and
// thumbnails found by scanning pages. It refuses, with ErrForeign and
// before writing anything, a catalog that belongs to another library than
// the folder's (o.LibraryID).
func Salvage(path, to string, o SalvageOptions) (*Salvaged, error) {
	pf, err := openPageFile(path)
	if err != nil {
		return nil, fmt.Errorf("salvage catalog: %w", err)
	}
	defer pf.Close()
	s := &salvage{pf: pf, keyOf: o.KeyOf, out: &Salvaged{Census: newCensus()}}
	s.cands = pf.candidates()
	base, ok := s.pickBase()
	settings, current := s.newestSettings(base, ok)
	s.out.Model = settings["model"]
	if err := sameLibrary(settings, current, o.LibraryID); err != nil {
		return nil, err
	}
	if s.w, err = newWriter(to, &s.out.Census); err != nil {
		return nil, err
	}
	s.copyAll(base, ok)
	s.finish(settings[string(keyLibraryID)], o.LibraryID)
	if err := s.w.close(s.err == nil); err != nil && s.err == nil {
		s.err = err
	}
	if s.err != nil {
		os.Remove(to)
		return nil, fmt.Errorf("write salvaged catalog: %w", s.err)
	}
	s.out.Problems = s.problems.lines()
	return s.out, nil
}

// sameLibrary refuses the settings of a catalog of another library than
// the folder's: one carrying another id, or none while its current
// settings read back and count changes (a catalog from before ids, made
// elsewhere; an older version's may be from before this library had its
// id). A catalog whose settings were lost with its id cannot tell: it
// takes the folder's (see finish).
func sameLibrary(settings map[string]string, current bool, folder string) error {
	id := settings[string(keyLibraryID)]
	switch {
	case folder == "":
		return nil
	case id != "" && id != folder:
		return foreign(id, folder)
	case id == "" && current && settings[string(keyGeneration)] != "":
		return foreign("", folder)
	}
	return nil
}

// salvage is one Salvage under way.
type salvage struct {
	pf       *pageFile
	keyOf    func(kind string, doc []byte) string
	cands    []candidate
	w        *writer
	lost     []keyRange // of the newest version, what it could not give
	out      *Salvaged
	problems problemList
	err      error // the first write that failed
}

// candidate is a version of the catalog's tree: its root page.
type candidate struct {
	root  uint64
	limit uint64 // its pages lie below (a meta page's high-water mark, else the file's end)
	stamp uint64 // the id of the transaction that wrote it (see stamp), else its meta page's
	named bool   // a sound meta page names it
}

// copyAll copies the newest version, then what older versions and the
// page scan give for the ranges it lost.
func (s *salvage) copyAll(base candidate, ok bool) {
	if !ok {
		s.problems.add("no version of the catalog's tree was found; item records are read from scanned pages")
		s.lost = []keyRange{{}}
	} else {
		s.copyBase(base)
	}
	if len(s.lost) == 0 {
		return
	}
	s.fill(base)
	s.scan()
	s.report()
}

// pickBase chooses the version to salvage: the newest a sound meta page
// names, or a newer one no sound meta page names (its meta page lost)
// provided its tree reads whole; with no sound meta page, the newest.
func (s *salvage) pickBase() (candidate, bool) {
	var named uint64
	for _, c := range s.cands {
		if c.named {
			named = max(named, c.stamp)
		}
	}
	for _, c := range s.cands {
		if c.named || (c.stamp > named && s.whole(c)) {
			return c, true
		}
	}
	if len(s.cands) > 0 {
		return s.cands[0], true
	}
	return candidate{}, false
}

// whole reports whether a version's tree reads without a damaged page.
func (s *salvage) whole(c candidate) bool {
	w := newWalker(s.pf, c.limit)
	sound := true
	w.lost = func([]string, []byte, []byte, error) { sound = false }
	w.pair = func(path []string, k, v []byte) { sound = sound && readsBack(path, k, v) }
	w.tree(c.root)
	return sound
}

// newestSettings reads the settings of the chosen version (current), or
// of the newest version whose settings read when that one's were lost:
// the library id and model the catalog had.
func (s *salvage) newestSettings(base candidate, ok bool) (settings map[string]string, current bool) {
	if ok {
		if got := s.settings(base); len(got) > 0 {
			return got, true
		}
	}
	for _, c := range s.cands {
		if got := s.settings(c); len(got) > 0 {
			return got, false
		}
	}
	return map[string]string{}, false
}

// settings reads a version's settings bucket.
func (s *salvage) settings(c candidate) map[string]string {
	out := map[string]string{}
	w := newWalker(s.pf, c.limit)
	w.want = func(path []string, _, _ []byte) bool {
		return len(path) == 0 || (len(path) == 1 && path[0] == string(bSettings))
	}
	w.pair = func(path []string, k, v []byte) {
		if len(path) == 1 {
			out[string(k)] = string(v)
		}
	}
	w.tree(c.root)
	return out
}

// copyBase copies every value of the chosen version that reads back,
// keeping the ranges it could not give.
func (s *salvage) copyBase(c candidate) {
	w := newWalker(s.pf, c.limit)
	w.lost = func(path []string, lo, hi []byte, why error) {
		s.lost = append(s.lost, keyRange{path: path, lo: clone(lo), hi: clone(hi)})
		s.problems.add(fmt.Sprintf("bucket %s: %v", joinPath(path), why))
	}
	w.pair = func(path []string, k, v []byte) {
		if !readsBack(path, k, v) {
			s.lost = append(s.lost, keyRange{path: path, lo: clone(k), hi: append(clone(k), 0)})
			s.problems.add(fmt.Sprintf("bucket %s: a value does not read back", joinPath(path)))
			return
		}
		s.put(path, k, v, false)
	}
	w.stray = s.rekey
	w.tree(c.root)
}

// rekey writes a value whose key a damaged page scrambled under the key
// its contents name, when they name one in a lost range.
func (s *salvage) rekey(path []string, v []byte) {
	var key string
	switch {
	case len(path) == 1 && path[0] == string(bItems):
		var it Item
		if json.Unmarshal(v, &it) == nil {
			key = it.ID
		}
	case len(path) == 2 && path[0] == string(bAnnotations) && s.keyOf != nil:
		key = s.keyOf(path[1], v)
	}
	k := []byte(key)
	if key != "" && s.holds(path, k) && readsBack(path, k, v) && s.put(path, k, v, true) {
		s.out.Rekeyed++
	}
}

// fill reads, for the ranges the chosen version lost, the older versions,
// newest first: what they hold there that is not written yet. A range an
// older version gives whole is no longer lost: the versions older still
// are not read for it (they would bring back what was removed since).
func (s *salvage) fill(base candidate) {
	tried := 0
	for _, c := range s.cands {
		if len(s.lost) == 0 || tried == maxOlder {
			return
		}
		if c.root == base.root {
			continue
		}
		tried++
		var missed []keyRange
		w := newWalker(s.pf, c.limit)
		w.want = func(path []string, lo, hi []byte) bool { return s.inLost(path, lo, hi) }
		w.lost = func(path []string, lo, hi []byte, _ error) {
			missed = append(missed, keyRange{path: path, lo: lo, hi: hi})
		}
		w.pair = func(path []string, k, v []byte) {
			if s.holds(path, k) && readsBack(path, k, v) && s.put(path, k, v, true) {
				s.out.Older++
			}
		}
		w.stray = s.rekey
		w.tree(c.root)
		s.lost = slices.DeleteFunc(s.lost, func(r keyRange) bool { return !meets(r, missed) })
	}
}

// meets reports whether range r meets any of rs.
func meets(r keyRange, rs []keyRange) bool {
	for _, o := range rs {
		if r.overlaps(o.path, o.lo, o.hi) || o.overlaps(r.path, r.lo, r.hi) {
			return true
		}
	}
	return false
}

// maxOlder bounds the older versions read for lost ranges.
const maxOlder = 32

func (s *salvage) inLost(path []string, lo, hi []byte) bool {
	for _, r := range s.lost {
		if r.overlaps(path, lo, hi) {
			return true
		}
	}
	return false
}

func (s *salvage) holds(path []string, k []byte) bool {
	for _, r := range s.lost {
		if r.holds(path, k) {
			return true
		}
	}
	return false
}

// put writes a value (only when none is there yet, with onlyNew) and says
// whether it did.
func (s *salvage) put(path []string, k, v []byte, onlyNew bool) bool {
	if s.err != nil {
		return false
	}
	did, err := s.w.put(path, k, v, onlyNew)
	s.err = err
	return did
}

// report names the buckets with lost ranges and what came back there.
func (s *salvage) report() {
	seen := map[string]bool{}
	for _, r := range s.lost {
		if name := joinPath(r.path); !seen[name] {
			seen[name] = true
			s.out.Unread = append(s.out.Unread, name)
		}
	}
	sort.Strings(s.out.Unread)
	if s.out.Older > 0 {
		s.problems.add(fmt.Sprintf("%d values were read from an older version of the catalog, where the newest was damaged "+
			"(what changed there since that version may be missing, or back)", s.out.Older))
	}
	if s.out.Rekeyed > 0 {
		s.problems.add(fmt.Sprintf("%d values under damaged keys were put back under the keys their contents name", s.out.Rekeyed))
	}
	if s.out.Scanned > 0 {
		s.problems.add(fmt.Sprintf("%d item records and thumbnails were found by scanning pages, not through the catalog's tree "+
			"(one removed earlier may be among them)", s.out.Scanned))
	}
}

// finish makes the new catalog's settings: the library id, generations
// one past the old ones (so that indexes made from the damaged catalog
// are stale), and the stamp.
func (s *salvage) finish(had, libraryID string) {
	if had == "" && libraryID != "" {
		s.problems.add("the catalog's library id was lost; it takes the library folder's")
	}
	s.out.LibraryID = had
	if had == "" {
		s.out.LibraryID = libraryID
	}
	if s.err == nil {
		s.err = s.w.finish(s.out.LibraryID)
	}
}

// candidates finds the versions of the tree in the file: the roots the
// sound meta pages name, and root pages found by scanning (a leaf whose
// elements are all buckets, among them items and settings), newest first.
func (pf *pageFile) candidates() []candidate {
	var out []candidate
	byRoot := map[uint64]bool{}
	for _, m := range pf.metas() {
		if !m.valid || byRoot[m.root] {
			continue
		}
		c := candidate{root: m.root, limit: min(m.pgid, pf.pages), named: true, stamp: m.txid}
		if p, err := pf.read(m.root, c.limit); err == nil {
			c.stamp = max(c.stamp, rootStamp(p))
		}
		byRoot[m.root] = true
		out = append(out, c)
	}
	pf.leaves(func(p *page) {
		if st, ok := isRoot(p); ok && !byRoot[p.id] {
			byRoot[p.id] = true
			out = append(out, candidate{root: p.id, limit: pf.pages, stamp: st})
		}
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].stamp != out[j].stamp {
			return out[i].stamp > out[j].stamp
		}
		return out[i].named && !out[j].named
	})
	return out
}

// isRoot reports whether a leaf page looks like the root of a catalog's
// tree, and its stamp.
func isRoot(p *page) (uint64, bool) {
	els, err := p.elems(nil, nil)
	if err != nil || len(els) == 0 {
		return 0, false
	}
	has := map[string]bool{}
	for _, e := range els {
		if !e.bucket {
			return 0, false
		}
		has[string(e.key)] = true
	}
	if !has[string(bItems)] || !has[string(bSettings)] {
		return 0, false
	}
	return rootStamp(p), true
}

// rootStamp reads the settings bucket's sequence from a root page (0
// when it is not there: a catalog from before stamps).
func rootStamp(p *page) uint64 {
	els, _ := p.elems(nil, nil)
	for _, e := range els {
		if e.bucket && string(e.key) == string(bSettings) && len(e.value) >= 16 {
			return binary.LittleEndian.Uint64(e.value[8:])
		}
	}
	return 0
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
