// Package export writes what a user shares from M3Ret Viewer without the
// patient's identity: DICOM files anonymised by the Basic Application
// Level Confidentiality Profile of DICOM PS3.15 Annex E (AnonymiseDICOM),
// and a one-page key-image note of a comparison (KeyImageNote). It never
// imports Fyne; the pictures it embeds come rendered from the caller.
//
// Nothing it writes, logs or returns names a patient: errors count files
// ("file 3 of 12") instead of quoting their paths, and output files are
// named IMG0001.dcm in a folder per series named by a hash of the series'
// new UID.
package export

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// Errors a caller may test for.
var (
	// ErrBurnedIn refuses a file whose pixels may show burned-in text (a
	// patient's name on an ultrasound frame, say); Options.AllowBurnedIn
	// exports it with a warning instead.
	ErrBurnedIn = errors.New("the pixels may show burned-in patient text")
	// ErrExists is returned rather than overwriting an output file.
	ErrExists = errors.New("output file exists")
)

// Options tune an anonymised export.
type Options struct {
	// ShiftDates keeps dates, all moved back by one random number of days
	// for the export (PS3.15's Retain Longitudinal Temporal Information
	// with Modified Dates Option); without it dates are removed.
	ShiftDates bool
	// AllowBurnedIn exports files that may show burned-in text, with a
	// warning in the report, instead of refusing them.
	AllowBurnedIn bool
	// Open opens a source file (nil: os.Open); the library passes one that
	// reads archive members too.
	Open func(ctx context.Context, path string) (io.ReadCloser, error)
	// Progress, when set, is called after each file.
	Progress func(done, total int)
}

// Report says what an export wrote.
type Report struct {
	Files    []string `json:"files"` // the files written, in the order of the sources
	Studies  int      `json:"studies"`
	Series   int      `json:"series"`
	Warnings []string `json:"warnings,omitempty"`
	// DatesShifted is true when dates were kept, shifted (Options.ShiftDates).
	DatesShifted bool `json:"dates_shifted"`
}

// AnonymiseDICOM writes an anonymised copy of each DICOM file in src under
// dstDir (dstDir/S<hash>/IMG0001.dcm, one folder per series). UIDs are
// replaced consistently across the whole export: files of one series stay
// one series, and a query and its result from one study stay one study.
// Pixel data is copied byte for byte. On an error or when ctx is done,
// the files it wrote are removed again.
func AnonymiseDICOM(ctx context.Context, src []string, dstDir string, opt Options) (rep Report, err error) {
	a, err := newAnonymiser(opt)
	if err != nil {
		return Report{}, err
	}
	rep.DatesShifted = opt.ShiftDates
	defer func() {
		if err != nil {
			a.undo()
			rep = Report{}
		}
	}()
	studies, series := map[string]bool{}, map[string]bool{}
	for i, p := range src {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		out, warn, err := a.file(ctx, p, dstDir)
		if err != nil {
			return rep, fmt.Errorf("anonymise file %d of %d: %w", i+1, len(src), err)
		}
		if warn != "" {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("file %d of %d: %s", i+1, len(src), warn))
		}
		rep.Files = append(rep.Files, out.path)
		studies[out.study], series[out.series] = true, true
		if opt.Progress != nil {
			opt.Progress(i+1, len(src))
		}
	}
	rep.Studies, rep.Series = len(studies), len(series)
	return rep, nil
}

// anonymiser holds one export's state: the UID map, the patient
// pseudonyms, the date shift and the files written so far.
type anonymiser struct {
	opt     Options
	uids    map[string]string
	ids     map[string]string
	days    int
	counts  map[string]int // files written per series folder
	written []string
	dirs    []string
}

func newAnonymiser(opt Options) (*anonymiser, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(3650))
	if err != nil {
		return nil, fmt.Errorf("anonymise: %w", err)
	}
	if opt.Open == nil {
		opt.Open = func(_ context.Context, p string) (io.ReadCloser, error) { return os.Open(p) }
	}
	return &anonymiser{opt: opt, uids: map[string]string{}, ids: map[string]string{},
		days: 365 + int(n.Int64()), counts: map[string]int{}}, nil
}

// written is where one anonymised file went.
type written struct{ path, study, series string }

// file anonymises one source file and writes it.
func (a *anonymiser) file(ctx context.Context, p, dstDir string) (written, string, error) {
	buf, err := a.read(ctx, p)
	if err != nil {
		return written{}, "", err
	}
	f, err := parseFile(buf)
	if err != nil {
		return written{}, "", err
	}
	warn, err := a.checkBurnedIn(f.data)
	if err != nil {
		return written{}, "", err
	}
	origID := findValue(f.data, tagPatientID)
	f.data = a.clean(f.data)
	a.mark(f, origID)
	a.rebuildMeta(f)
	w := written{study: findValue(f.data, 0x0020000D), series: trimUID(findValue(f.data, 0x0020000E))}
	w.path, err = a.write(dstDir, w.series, f.encode)
	return w, warn, err
}

func (a *anonymiser) read(ctx context.Context, p string) ([]byte, error) {
	rc, err := a.opt.Open(ctx, p)
	if err != nil {
		return nil, pathless("open", err)
	}
	defer rc.Close()
	buf, err := io.ReadAll(rc)
	if err != nil {
		return nil, pathless("read", err)
	}
	return buf, nil
}

// pathless is err without the file's path, which may name the patient.
func pathless(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", op, pe.Err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s: the source file cannot be read", op)
}

// checkBurnedIn refuses (or, with AllowBurnedIn, warns about) a file
// whose Burned In Annotation (0028,0301) is YES, or that lacks it and is
// of a kind that often carries burned-in text: ultrasound, secondary
// capture, "other", endoscopy and photographs.
func (a *anonymiser) checkBurnedIn(data []*element) (string, error) {
	reason := burnedInReason(data)
	if reason == "" {
		return "", nil
	}
	if !a.opt.AllowBurnedIn {
		return "", fmt.Errorf("%w (%s); export with burned-in text allowed to share it anyway", ErrBurnedIn, reason)
	}
	return "exported although " + reason + ": check the pixels for burned-in text before sharing", nil
}

func burnedInReason(data []*element) string {
	flag := strings.ToUpper(strings.TrimSpace(findValue(data, 0x00280301)))
	modality := strings.ToUpper(strings.TrimSpace(findValue(data, 0x00080060)))
	class := trimUID(findValue(data, 0x00080016))
	switch {
	case flag == "YES":
		return "Burned In Annotation is YES"
	case flag != "":
		return ""
	case strings.HasPrefix(class, "1.2.840.10008.5.1.4.1.1.7"):
		return "a secondary capture without Burned In Annotation"
	}
	switch modality {
	case "US", "SC", "OT", "ES", "XC", "GM":
		return "a " + modality + " image without Burned In Annotation"
	}
	return ""
}

// write stores one file in its series folder without overwriting.
func (a *anonymiser) write(dstDir, series string, encode func(io.Writer) error) (string, error) {
	sum := sha256.Sum256([]byte(series))
	folder := "S" + strings.ToUpper(hex.EncodeToString(sum[:4]))
	dir := filepath.Join(dstDir, folder)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create series folder: %w", err)
		}
		a.dirs = append(a.dirs, dir)
	}
	a.counts[folder]++
	p := filepath.Join(dir, fmt.Sprintf("IMG%04d.dcm", a.counts[folder]))
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("%w: %s", ErrExists, p)
	}
	if err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	a.written = append(a.written, p)
	bw := bufio.NewWriterSize(out, 1<<20)
	if err = encode(bw); err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	return p, nil
}

// undo removes what a failed export wrote.
func (a *anonymiser) undo() {
	for _, p := range a.written {
		os.Remove(p)
	}
	for i := len(a.dirs) - 1; i >= 0; i-- {
		os.Remove(a.dirs[i]) // only when empty
	}
}
