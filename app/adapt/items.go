package adapt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sort"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/app/devtools"
	"github.com/m3ret/viewer/inference"
	"github.com/m3ret/viewer/inference/train"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/media"
)

// ErrTooFew: the library has too few items to adapt on.
var ErrTooFew = errors.New("too few items to adapt on")

// MinItems is the fewest items adapt trains on.
const MinItems = 8

// evalK is the rank the figures are scored at, as `make eval` scores them.
const evalK = 10

// chosenItem is an item the run reads: to train on, and to score when
// eval is set.
type chosenItem struct {
	item  library.Item
	label string // "" for none
	eval  bool
}

// openRead opens the library c names, to read, with its model.
func openRead(c *cli.Common, log io.Writer) (*cli.Session, error) {
	return cli.OpenAs(c, log, controller.Options{}, library.Read)
}

// chooseItems picks the items to train on (all of them, or a seeded sample
// of o.Items) and, among them, those to score (labelled ones first). Items
// whose files are not here (pulled, their copy gone) are left out.
func chooseItems(lib *library.Library, o Options) ([]chosenItem, error) {
	items, err := lib.Items()
	if err != nil {
		return nil, err
	}
	labels, err := itemLabels(lib, o.Labels, items)
	if err != nil {
		return nil, err
	}
	var out []chosenItem
	for _, it := range items {
		if !library.Remote(it) {
			out = append(out, chosenItem{item: it, label: labels[it.ID]})
		}
	}
	if len(out) < MinItems {
		return nil, fmt.Errorf("%w: the library has %d (at least %d)", ErrTooFew, len(out), MinItems)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].item.ID < out[j].item.ID })
	rng := rand.New(rand.NewPCG(o.Seed, 0x61646170))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	sort.SliceStable(out, func(i, j int) bool { return out[i].label != "" && out[j].label == "" })
	out = out[:min(len(out), o.Items)]
	for i := range out {
		out[i].eval = i < o.EvalItems
	}
	return out, nil
}

// itemLabels are the labels by item id: those of the CSV (by path) when
// given, else those set on the library's items (m3ret label).
func itemLabels(lib *library.Library, byPath map[string]string, items []library.Item) (map[string]string, error) {
	if byPath == nil {
		return lib.Labels()
	}
	out := map[string]string{}
	for _, it := range items {
		if l, ok := byPath[filepath.Clean(it.Path)]; ok {
			out[it.ID] = l
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("none of the %d labelled paths is in the library (import them first)", len(byPath))
	}
	return out, nil
}

// readItems reads every chosen item once: its training arrays into the
// scratch folder, and, for those scored, its embedding and its perturbed
// copy's with the current model. Items that cannot be read are left out
// (said in the log, counted in res.Failed).
func readItems(ctx context.Context, s *cli.Session, ws *workspace, chosen []chosenItem, o Options, res *Result) (devtools.Scores, error) {
	arr := train.Arrays{Manifest: s.Enc.Manifest(), Size: arraySize, Frames: arrayFrames, Slices: arraySlices}
	var entries []train.Entry
	var sc scoring
	progress := o.stage("reading items")
	for i, c := range chosen {
		if progress != nil {
			progress(i, len(chosen))
		}
		smp, err := s.Library().Load(ctx, c.item.ID)
		if err != nil {
			if ctx.Err() != nil {
				return devtools.Scores{}, ctx.Err()
			}
			fmt.Fprintf(o.Notes, "m3ret: left out item %s: %v\n", c.item.ID, err)
			res.Failed++
			continue
		}
		es, err := arr.Write(ws.path("data"), fmt.Sprintf("%06d", i), entryOf(c.item, smp), smp)
		if err != nil {
			return devtools.Scores{}, fmt.Errorf("write training arrays: %w", err)
		}
		entries = append(entries, es...)
		res.Items++
		if c.eval {
			if err := sc.add(ctx, s.Enc, smp, c, o.Seed); err != nil {
				return devtools.Scores{}, err
			}
		}
	}
	if progress != nil {
		progress(len(chosen), len(chosen))
	}
	if res.Items < MinItems {
		return devtools.Scores{}, fmt.Errorf("%w: %d of the library's items could be read (at least %d)", ErrTooFew, res.Items, MinItems)
	}
	res.Arrays = len(entries)
	return sc.scores(), arr.WriteIndex(ws.path("data"), entries)
}

// entryOf is what the index of training arrays says of an item: no path,
// no name, only what the trainer needs to tell slices of one series.
func entryOf(it library.Item, s *media.Sample) train.Entry {
	series := s.Meta.SeriesUID
	if series == "" {
		series = it.ID
	}
	h := sha256.Sum256([]byte(series))
	return train.Entry{Source: it.ID, SHA256: it.Hash, Modality: s.Meta.Modality, BodyPart: s.Meta.BodyPart,
		Series: hex.EncodeToString(h[:6]), Frames: s.Frames}
}

// scoreModel scores the model whose manifest is at path on the items
// scored before, reading them again.
func scoreModel(ctx context.Context, c *cli.Common, path string, chosen []chosenItem, o Options) (devtools.Scores, error) {
	enc, err := cli.LoadModel(path, inference.Options{Provider: c.Provider})
	if err != nil {
		return devtools.Scores{}, err
	}
	defer enc.Close()
	s, err := openRead(c, o.Notes)
	if err != nil {
		return devtools.Scores{}, err
	}
	defer s.Close()
	var sc scoring
	progress := o.stage("scoring the new model")
	for i, ch := range chosen {
		if progress != nil {
			progress(i, len(chosen))
		}
		if !ch.eval {
			continue
		}
		smp, err := s.Library().Load(ctx, ch.item.ID)
		if err != nil {
			if ctx.Err() != nil {
				return devtools.Scores{}, ctx.Err()
			}
			fmt.Fprintf(o.Notes, "m3ret: left out item %s: %v\n", ch.item.ID, err)
			continue
		}
		if err := sc.add(ctx, enc, smp, ch, o.Seed); err != nil {
			return devtools.Scores{}, err
		}
	}
	if progress != nil {
		progress(len(chosen), len(chosen))
	}
	return sc.scores(), nil
}

// scoring gathers the vectors of the items scored and of their perturbed
// copies (`m3ret eval --perturb`'s, from the same seed).
type scoring struct {
	vecs, pert [][]float32
	labels     []string
}

func (sc *scoring) add(ctx context.Context, enc library.Embedder, s *media.Sample, c chosenItem, seed uint64) error {
	p, err := devtools.PerturbedCopy(s, c.item, seed)
	if err != nil {
		return fmt.Errorf("perturb item %s: %w", c.item.ID, err)
	}
	v, err := enc.Embed(ctx, []media.Sample{*s, *p})
	if err != nil {
		return fmt.Errorf("embed item %s: %w", c.item.ID, err)
	}
	sc.vecs, sc.pert, sc.labels = append(sc.vecs, v[0]), append(sc.pert, v[1]), append(sc.labels, c.label)
	return nil
}

func (sc *scoring) scores() devtools.Scores {
	return devtools.ScoreVectors(sc.vecs, sc.pert, sc.labels, evalK)
}
