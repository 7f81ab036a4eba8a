package ingest

import (
	"context"
	"errors"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/m3ret/viewer/library/ingest/dicom"
	"github.com/m3ret/viewer/library/media"
)

// Unit is what becomes one library item: one file, or the slices of one
// DICOM series in order.
type Unit struct {
	Paths []string
	// Instances are the SOP Instance UIDs of a DICOM unit's files, in
	// order (empty for other formats). They identify the unit.
	Instances []string
	stack     []dicom.Header
	decoded   func(path string) *media.Sample // slices decoded ahead (a pull), or nil
}

// Read decodes the unit, stopping with ctx.Err() when ctx is done.
func (u Unit) Read(ctx context.Context) (*media.Sample, error) {
	if len(u.stack) > 1 {
		return dicom.ReadSeriesFrom(ctx, u.stack, opener(ctx), u.decoded)
	}
	return ReadFileContext(ctx, u.Paths[0])
}

// Problem is a file that was not planned into a unit, and why. Skipped
// problems are objects with nothing to import (a structured report, a
// PDF) or instances already in the library, not errors.
type Problem struct {
	Path    string
	Err     error
	Skipped bool
}

// Reasons for skipping a DICOM file while planning.
var (
	ErrKnown     = errors.New("instance already in the library")
	ErrDuplicate = errors.New("same instance as another file of this import")
)

// Plan reads the headers of DICOM files (a bounded pool of workers) and
// groups them into series; every other file is a unit of its own. known,
// if not nil, reports SOP Instance UIDs already imported: those files are
// skipped. progress (may be nil) counts files.
func Plan(ctx context.Context, files []string, known func(uid string) bool, progress func(done, total int)) ([]Unit, []Problem) {
	p := NewPlanner(ctx, known)
	for _, f := range files {
		p.Add(f)
	}
	return p.Units(progress)
}

// Planner plans files as they come: Add reads a file's header in a
// bounded pool of workers at once (a pull hands it each instance as it
// lands on disk), Units groups them once all are in. Plan is a Planner
// given every file at once.
type Planner struct {
	ctx   context.Context
	known func(uid string) bool
	g     errgroup.Group
	mu    sync.Mutex
	files []string
	heads []*dicom.Header
	errs  []error
	sent  []bool     // handed to early
	early func(Unit) // see Stream
	ahead *ahead
}

// NewPlanner makes a planner; known is as for Plan.
func NewPlanner(ctx context.Context, known func(uid string) bool) *Planner {
	p := &Planner{ctx: ctx, known: known}
	p.g.SetLimit(4)
	return p
}

// DecodeAhead makes the planner decode, as their headers come in, the
// slices of an arriving series of about n instances that its sample will
// likely hold (see ahead). Call it before the first Add, and Close after
// the units are read.
func (p *Planner) DecodeAhead(n int) {
	if n > 1 {
		p.ahead = newAhead(p.ctx, n)
	}
}

// Stream hands each file that is not DICOM to fn, as a unit of its own,
// as soon as its header read says so (from the worker that read it, so fn
// must be safe for concurrent use), so that an import can store it while
// the DICOM headers are still being read; Units then leaves it out. Call
// it before the first Add.
func (p *Planner) Stream(fn func(Unit)) { p.early = fn }

// Close releases what DecodeAhead holds; the units cannot take slices
// decoded ahead after it.
func (p *Planner) Close() {
	if p.ahead != nil {
		p.ahead.close()
	}
}

// Add starts reading a file's header; it waits while the workers are all
// busy. Files keep the order they were added in.
func (p *Planner) Add(path string) {
	p.mu.Lock()
	i := len(p.files)
	p.files, p.heads, p.errs = append(p.files, path), append(p.heads, nil), append(p.errs, nil)
	p.sent = append(p.sent, false)
	p.mu.Unlock()
	if err := p.ctx.Err(); err != nil {
		p.set(i, nil, err)
		return
	}
	p.g.Go(func() error {
		h, err := planHeader(p.ctx, path)
		p.set(i, h, err)
		if h == nil && err == nil && p.early != nil {
			p.mu.Lock()
			p.sent[i] = true
			p.mu.Unlock()
			p.early(Unit{Paths: []string{path}})
		}
		if h != nil && p.ahead != nil {
			p.ahead.offer(path, h)
		}
		return nil
	})
}

func (p *Planner) set(i int, h *dicom.Header, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heads[i], p.errs[i] = h, err
}

// Units waits for the headers and groups the files into units, in the
// order of their first paths; progress (may be nil) counts files.
func (p *Planner) Units(progress func(done, total int)) ([]Unit, []Problem) {
	p.g.Wait()
	var units []Unit
	var problems []Problem
	var dicoms []dicom.Header
	for i, f := range p.files {
		switch h := p.heads[i]; {
		case p.sent[i]:
		case p.errs[i] != nil:
			problems = append(problems, Problem{Path: f, Err: p.errs[i], Skipped: errors.Is(p.errs[i], dicom.ErrNotImage)})
		case h == nil:
			units = append(units, Unit{Paths: []string{f}})
		case p.known != nil && h.InstanceUID != "" && p.known(h.InstanceUID):
			problems = append(problems, Problem{Path: f, Err: ErrKnown, Skipped: true})
		default:
			h.Path = f
			dicoms = append(dicoms, *h)
		}
		if progress != nil {
			progress(i+1, len(p.files))
		}
	}
	units = append(units, group(dicoms, &problems)...)
	if p.ahead != nil {
		for i := range units {
			units[i].decoded = p.ahead.take
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].Paths[0] < units[j].Paths[0] })
	return units, problems
}

// group dedupes DICOM headers and groups them into series units.
func group(dicoms []dicom.Header, problems *[]Problem) []Unit {
	dicoms, dups := dedupe(dicoms)
	for _, d := range dups {
		*problems = append(*problems, Problem{Path: d.Path, Err: ErrDuplicate, Skipped: true})
	}
	var units []Unit
	for _, stack := range dicom.Group(dicoms) {
		u := Unit{stack: stack}
		for _, h := range stack {
			u.Paths = append(u.Paths, h.Path)
			u.Instances = append(u.Instances, h.InstanceUID)
		}
		units = append(units, u)
	}
	return units
}

// dedupe drops files that repeat an instance seen earlier in this run.
func dedupe(hs []dicom.Header) (kept, dups []dicom.Header) {
	seen := map[string]bool{}
	for _, h := range hs {
		if h.InstanceUID != "" && seen[h.InstanceUID] {
			dups = append(dups, h)
			continue
		}
		seen[h.InstanceUID] = true
		kept = append(kept, h)
	}
	return kept, dups
}

// planHeader returns the DICOM header of a file, or nil for other formats.
func planHeader(ctx context.Context, path string) (*dicom.Header, error) {
	head, err := readHead(ctx, path, 132)
	if err != nil {
		return nil, err
	}
	if !dicom.Sniff(head) && !looksLikeRawDICOM(path, head) {
		return nil, nil
	}
	r, size, closeFn, err := openSeeker(ctx, path, true) // a header: read once, from the start
	if err != nil {
		return nil, err
	}
	defer closeFn()
	h, err := dicom.ReadHeaderContext(ctx, r, size)
	if err != nil {
		return nil, err
	}
	return &h, nil
}
