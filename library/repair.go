package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/m3ret/viewer/library/catalog"
	"github.com/m3ret/viewer/library/index"
	"github.com/m3ret/viewer/library/media"
)

// RepairReport is what Repair did.
type RepairReport struct {
	// Salvaged counts the items whose records were read back.
	Salvaged int `json:"salvaged"`
	// Annotations counts the notes, labels and measurements read back.
	Annotations int `json:"annotations"`
	// Lost are the ids the vector index knew whose records could not be
	// read: their source files must be imported again.
	Lost []string `json:"lost"`
	// LostAnnotations are the labels and notes the metadata index knew
	// that could not be read back (the index may have been behind the
	// catalog: one removed just before the damage may be among them).
	// Measurements have no such second record: Problems names the ranges
	// of them that could not be read.
	LostAnnotations []LostAnnotation `json:"lost_annotations"`
	// Damaged is where the damaged catalog was kept ("" when the catalog
	// was sound and only the indexes were rebuilt).
	Damaged string `json:"damaged,omitempty"`
	// Problems says what could not be read, one line each.
	Problems []string `json:"problems"`
}

// LostAnnotation is an annotation on an item that Repair could not read
// back: Kind "label", or "note" (the item's own note, or a note on a
// pair where it was the result).
type LostAnnotation struct {
	Kind string `json:"kind"`
	Item string `json:"item"`
}

// Repair mends the library in dir, which must not be open. It checks the
// catalog page by page (catalog.Inspect); a sound one is left as it is and
// only the indexes are rebuilt from it. A damaged one is salvaged
// (catalog.Salvage) into a new catalog written beside it, which is checked
// the same way and must hold what the salvage reports; only then is it
// swapped in (the damaged file kept beside as catalog.db.damaged-TIME)
// and the indexes rebuilt from it. Until the swap nothing in the folder
// changes: a repair that fails leaves the library as it found it. A
// catalog of another library (ErrForeign) is refused, untouched. The
// report lists what was lost: items (known to the vector index), labels
// and notes (known to the metadata index).
func Repair(dir string) (*RepairReport, error) {
	return RepairWith(context.Background(), dir, OpenOptions{})
}

// RepairWith is Repair waiting (bounded by ctx) while another process
// uses the library; it holds the lock exclusive throughout.
func RepairWith(ctx context.Context, dir string, o OpenOptions) (*RepairReport, error) {
	if _, err := os.Stat(filepath.Join(dir, catalogFile)); err != nil {
		return nil, fmt.Errorf("no library in %s: %w", dir, err)
	}
	l := &Library{dir: dir, meta: &index.Meta{}}
	l.access = Write
	l.SetWaiting(o.Waiting)
	if err := lockFolder(l); err != nil {
		return nil, err
	}
	defer l.Close()
	if err := l.acquire(ctx, true); err != nil {
		return nil, err
	}
	return l.repair()
}

const catalogFile = "catalog.db"

func (l *Library) repair() (*RepairReport, error) {
	path := filepath.Join(l.dir, catalogFile)
	rep := &RepairReport{Lost: []string{}, LostAnnotations: []LostAnnotation{}, Problems: []string{}}
	census, problems, err := catalog.Inspect(path)
	if err != nil {
		return nil, err
	}
	if len(problems) == 0 {
		rep.Salvaged, rep.Annotations = census.Items, census.Annotations()
		return rep, l.rebuildIndexes(rep)
	}
	known := knownToIndexes(l.dir)
	if known.problem != "" {
		rep.Problems = append(rep.Problems, known.problem)
	}
	if err := l.salvage(path, rep); err != nil {
		return nil, err
	}
	err = l.rebuildIndexes(rep)
	if err == nil {
		err = l.listLost(rep, known)
	}
	if err != nil {
		return nil, fmt.Errorf("the salvaged catalog is in place, the damaged one kept as %s, but: %w", rep.Damaged, err)
	}
	return rep, nil
}

// salvage writes what can be read of the damaged catalog at path into a
// new one beside it, checks it, and swaps it in.
func (l *Library) salvage(path string, rep *RepairReport) error {
	folderID, err := catalog.FolderID(path)
	if err != nil {
		return err
	}
	tmp := path + ".repair"
	got, err := catalog.Salvage(path, tmp, catalog.SalvageOptions{LibraryID: folderID, KeyOf: annotationKey})
	if err != nil {
		return err
	}
	if err := checkSalvaged(tmp, got); err != nil {
		os.Remove(tmp)
		return err
	}
	rep.Salvaged, rep.Annotations = got.Items, got.Annotations()
	rep.Problems = append(rep.Problems, got.Problems...)
	if n := got.Items - got.Vectors[got.Model]; n > 0 && got.Model != "" {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d salvaged items have no vector: m3ret reindex embeds them again", n))
	}
	for _, b := range got.Unread {
		rep.Problems = append(rep.Problems, fmt.Sprintf("bucket %s: what no older copy held in the damaged ranges is lost", b))
	}
	rep.Damaged, err = swapIn(path, tmp)
	return err
}

// checkSalvaged checks the new catalog before it replaces the damaged
// one: sound page by page, holding what the salvage says it wrote, and
// opening (its library id the folder's) with its items readable.
func checkSalvaged(path string, got *catalog.Salvaged) error {
	census, problems, err := catalog.Inspect(path)
	switch {
	case err != nil:
		return fmt.Errorf("check the salvaged catalog: %w", err)
	case len(problems) > 0:
		return fmt.Errorf("check the salvaged catalog: %s", problems[0])
	case !census.Equal(got.Census):
		return fmt.Errorf("check the salvaged catalog: it holds %d items and %d annotations, the salvage wrote %d and %d",
			census.Items, census.Annotations(), got.Items, got.Annotations())
	}
	c, err := catalog.OpenReadOnly(path)
	if err != nil {
		return fmt.Errorf("check the salvaged catalog: %w", err)
	}
	defer c.Close()
	items, err := c.Items()
	if err == nil && len(items) != got.Items {
		err = fmt.Errorf("%d items read back, %d written", len(items), got.Items)
	}
	if err != nil {
		return fmt.Errorf("check the salvaged catalog: %w", err)
	}
	return nil
}

// rebuildIndexes opens the (sound, or new) catalog (refusing one of
// another library), drops both indexes and builds them again from it. A
// rebuild that fails is a problem, not a failure: the catalog is whole,
// and the next start rebuilds what is missing.
func (l *Library) rebuildIndexes(rep *RepairReport) error {
	cat, err := catalog.Open(filepath.Join(l.dir, catalogFile))
	if err != nil {
		return err
	}
	l.cat = cat
	model, err := cat.Setting(settingModel)
	if err != nil {
		return err
	}
	if err := dropIndexes(l.dir); err != nil {
		return err
	}
	if model == "" {
		return nil // a library never opened with a model: no index yet
	}
	l.emb.set(recordedModel(model))
	if err := l.open(); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the indexes could not be rebuilt (%v); the next start rebuilds them", err))
	}
	return nil
}

// recordedModel stands for the library's model while its indexes are
// rebuilt from the catalog: the vectors are there, nothing is embedded.
type recordedModel string

func (m recordedModel) ModelID() string { return string(m) }

func (m recordedModel) Embed(context.Context, []media.Sample) ([][]float32, error) {
	return nil, errors.New("a repair embeds nothing")
}

// dropIndexes removes both indexes; Open rebuilds them from the catalog.
func dropIndexes(dir string) error {
	for _, p := range []string{vectorsFile, "meta.bleve"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// listLost lists what the indexes knew that the repaired catalog lacks.
func (l *Library) listLost(rep *RepairReport, known indexed) error {
	items, err := l.cat.Items()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, it := range items {
		have[it.ID] = true
	}
	for _, id := range known.items {
		if !have[id] {
			rep.Lost = append(rep.Lost, id)
		}
	}
	sort.Strings(rep.Lost)
	annotated, err := l.annotated()
	if err != nil {
		return err
	}
	for _, kind := range []string{kindLabel, kindNote} {
		for _, id := range known.annotated[kind] {
			if !annotated[kind][id] {
				rep.LostAnnotations = append(rep.LostAnnotations, LostAnnotation{Kind: kind, Item: id})
			}
		}
	}
	return nil
}

// annotated is, by kind (label, note), the items the catalog holds one
// for (a note on a pair counts for its result, as the index has it).
func (l *Library) annotated() (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{kindLabel: {}, kindNote: {}}
	for kind, into := range map[string]string{kindLabel: kindLabel, kindNote: kindNote, kindPairNote: kindNote} {
		docs, err := l.cat.Annotations(kind)
		if err != nil {
			return nil, err
		}
		for key := range docs {
			out[into][strings.SplitN(key, "\x00", 2)[0]] = true
		}
	}
	return out, nil
}

// annotationKey is the key an annotation document belongs under, as its
// contents name it: a note its item, a pair note its result and query
// ("" for a kind whose documents name none: labels, measurements).
func annotationKey(kind string, doc []byte) string {
	var n Note
	if json.Unmarshal(doc, &n) != nil {
		return ""
	}
	switch {
	case kind == kindNote && n.Item != "":
		return n.Item
	case kind == kindPairNote && n.Query != "" && n.Result != "":
		return pairKey(n.Query, n.Result)
	}
	return ""
}
