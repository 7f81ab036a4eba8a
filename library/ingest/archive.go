package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library/ingest/dicom"
	"github.com/m3ret/viewer/library/ingest/internal/ctxio"
)

// Limits on ZIP archives: what one member and the whole archive may
// inflate to, and the largest compression ratio taken for a large member.
const (
	MaxMemberBytes  = 2 << 30
	MaxArchiveBytes = 32 << 30
	MaxRatio        = 200
)

// ErrArchive is wrapped when an archive is refused (path traversal, a
// decompression bomb) or unreadable.
var ErrArchive = errors.New("archive refused")

// memberSep joins an archive's path and a member's name in the paths Walk
// returns: "/data/study.zip!/CT/IM0001".
const memberSep = "!/"

// splitMember splits a member path; ok is false for plain files.
func splitMember(p string) (archive, member string, ok bool) {
	i := strings.Index(p, memberSep)
	if i < 0 {
		return "", "", false
	}
	if st, err := os.Stat(p[:i]); err != nil || !st.Mode().IsRegular() {
		return "", "", false
	}
	return p[:i], p[i+len(memberSep):], true
}

// isZip reports a ZIP archive by its local-file-header magic.
func isZip(head []byte) bool { return bytes.HasPrefix(head, []byte("PK\x03\x04")) }

// walkZip lists an archive's members as member paths, refusing the whole
// archive when a name escapes it or the sizes say decompression bomb.
func walkZip(archive string) ([]string, error) {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	defer zr.Close()
	var out []string
	var total, packed uint64
	for _, f := range zr.File {
		name := f.Name
		if strings.Contains(name, "\\") || path.IsAbs(name) || strings.HasPrefix(path.Clean(name), "..") || strings.Contains(name, "!/") {
			return nil, fmt.Errorf("%w: member %q points outside the archive", ErrArchive, name)
		}
		if f.FileInfo().IsDir() || skipName(path.Base(name)) || strings.HasPrefix(path.Base(name), ".") {
			continue
		}
		total += f.UncompressedSize64
		if f.UncompressedSize64 > MaxMemberBytes || total > MaxArchiveBytes ||
			(f.UncompressedSize64 > 64<<20 && f.UncompressedSize64 > MaxRatio*max(f.CompressedSize64, 1)) {
			return nil, fmt.Errorf("%w: member %q inflates to %d bytes (decompression bomb?)", ErrArchive, name, f.UncompressedSize64)
		}
		packed += f.CompressedSize64
		out = append(out, archive+memberSep+path.Clean(name))
	}
	if total > memberInMemory && total > MaxRatio*max(packed, 1) {
		return nil, fmt.Errorf("%w: its members inflate to %d bytes, %d times their packed size (decompression bomb?)", ErrArchive, total, total/max(packed, 1))
	}
	return out, nil
}

// openMember streams one member (no further than its declared size, which
// is at most MaxMemberBytes), charging what it inflates to the archive's
// budget under ctx; closing it closes the archive.
func openMember(ctx context.Context, archive, member string) (io.ReadCloser, uint64, error) {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return nil, 0, fmt.Errorf("open zip: %w", err)
	}
	var found *zip.File
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if found == nil && path.Clean(f.Name) == member {
			found = f
		}
	}
	if found == nil {
		zr.Close()
		return nil, 0, fmt.Errorf("member not found in archive: %w", os.ErrNotExist)
	}
	if found.UncompressedSize64 > MaxMemberBytes {
		zr.Close()
		return nil, 0, fmt.Errorf("%w: member too large", ErrArchive)
	}
	rc, err := found.Open()
	if err != nil {
		zr.Close()
		return nil, 0, err
	}
	var r io.Reader = io.LimitReader(rc, int64(found.UncompressedSize64))
	if b := budgetFor(ctx, archive, declared); b != nil {
		r = budgetReader{r: r, b: b}
	}
	return struct {
		io.Reader
		io.Closer
	}{r, closer(func() error { rc.Close(); return zr.Close() })}, found.UncompressedSize64, nil
}

// memberInMemory is the size up to which an archive member is inflated
// into memory to be read (one inflation, random access); a larger one is
// read through a memberSeeker, so that no member costs more memory than
// this whatever its size.
const memberInMemory = 64 << 20

// openSeeker opens a plain file or an archive member for reading; a
// member is inflated into memory when small, else (or when stream is
// true: a reader that goes through it once, such as a header read)
// streamed through a memberSeeker.
func openSeeker(ctx context.Context, p string, stream bool) (io.ReadSeeker, int64, func() error, error) {
	if a, m, ok := splitMember(p); ok {
		return openMemberSeeker(ctx, a, m, stream)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, nil, fmt.Errorf("not a regular file")
	}
	return f, st.Size(), f.Close, nil
}

// opener is openSeeker for the DICOM series reader, members charged to
// their archive's budget under ctx.
func opener(ctx context.Context) dicom.Opener {
	return func(p string) (io.ReadSeeker, int64, func() error, error) { return openSeeker(ctx, p, false) }
}

// Open opens a file or archive member Walk returned, for reading it
// through once (hashing, sniffing): a member is streamed, not inflated
// into memory.
func Open(p string) (io.ReadCloser, error) { return OpenContext(context.Background(), p) }

// OpenContext is Open charging what a member inflates to its archive's
// budget under ctx (see WithArchiveBudget).
func OpenContext(ctx context.Context, p string) (io.ReadCloser, error) {
	if a, m, ok := splitMember(p); ok {
		rc, _, err := openMember(ctx, a, m)
		return rc, err
	}
	r, _, closeFn, err := openSeeker(ctx, p, true)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{r, closer(closeFn)}, nil
}

func openMemberSeeker(ctx context.Context, archive, member string, stream bool) (io.ReadSeeker, int64, func() error, error) {
	rc, size, err := openMember(ctx, archive, member)
	if err != nil {
		return nil, 0, nil, err
	}
	if stream || size > memberInMemory {
		ms := &memberSeeker{ctx: ctx, archive: archive, member: member, rc: rc, size: int64(size)}
		return ms, int64(size), ms.close, nil
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, int64(size)+1))
	switch {
	case err != nil:
		return nil, 0, nil, fmt.Errorf("inflate %s: %w", member, err)
	case uint64(len(data)) > size:
		return nil, 0, nil, fmt.Errorf("%w: member inflates past its declared size", ErrArchive)
	}
	return bytes.NewReader(data), int64(len(data)), func() error { return nil }, nil
}

// memberSeeker reads a large archive member as a stream: a seek forward
// inflates and drops the bytes in between, a seek back starts the member
// over. Readers that go through a member once or twice (a header, then
// the pixel data) hold none of it in memory.
type memberSeeker struct {
	ctx             context.Context
	archive, member string
	rc              io.ReadCloser
	pos, size       int64
}

func (m *memberSeeker) Read(p []byte) (int, error) {
	n, err := m.rc.Read(p)
	m.pos += int64(n)
	return n, err
}

func (m *memberSeeker) Seek(offset int64, whence int) (int64, error) {
	target := offset
	switch whence {
	case io.SeekCurrent:
		target += m.pos
	case io.SeekEnd:
		target += m.size
	}
	if target < 0 {
		return m.pos, fmt.Errorf("seek %s: negative position", m.member)
	}
	if target < m.pos { // start over
		rc, _, err := openMember(m.ctx, m.archive, m.member)
		if err != nil {
			return m.pos, err
		}
		m.rc.Close()
		m.rc, m.pos = rc, 0
	}
	n, err := io.CopyN(io.Discard, m.rc, target-m.pos)
	m.pos += n
	if err == io.EOF && m.pos <= m.size {
		err = nil
	}
	return m.pos, err
}

func (m *memberSeeker) close() error { return m.rc.Close() }

type closer func() error

func (c closer) Close() error { return c() }

// withTempCopy runs read on a private temporary copy of an archive member,
// for readers that need a real file (NIfTI pairs, ffmpeg); the member is
// streamed into it (never inflated into memory, never past its declared
// size) and the copy is removed afterwards. It lands in the folder
// WithScratch gave ctx (a library's own), else the system's temporary
// folder.
func withTempCopy[T any](ctx context.Context, archive, member string, read func(string) (T, error)) (T, error) {
	var zero T
	rc, size, err := openMember(ctx, archive, member)
	if err != nil {
		return zero, err
	}
	defer rc.Close()
	dir, err := os.MkdirTemp(scratchDir(ctx), "m3ret-member-")
	if err != nil {
		return zero, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(member))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return zero, err
	}
	n, err := io.Copy(f, io.LimitReader(ctxio.Reader(ctx, rc), int64(size)+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return zero, fmt.Errorf("inflate %s: %w", member, err)
	case uint64(n) > size:
		return zero, fmt.Errorf("%w: member inflates past its declared size", ErrArchive)
	}
	return read(tmp)
}

type scratchKey struct{}

// WithScratch makes the readers under ctx put their temporary copies of
// archive members in dir (a library keeps one inside its own folder,
// readable by the user alone, and clears it at open, so that a copy left
// by a killed process never sits in a shared temporary folder).
func WithScratch(ctx context.Context, dir string) context.Context {
	return context.WithValue(ctx, scratchKey{}, dir)
}

func scratchDir(ctx context.Context) string {
	dir, _ := ctx.Value(scratchKey{}).(string)
	return dir // "" is the system's temporary folder
}

// dicomdirFiles lists the files a DICOMDIR refers to, as paths beside it.
func dicomdirFiles(ctx context.Context, p string) ([]string, error) {
	r, size, closeFn, err := openSeeker(ctx, p, true) // read once, from the start
	if err != nil {
		return nil, err
	}
	defer closeFn()
	ids, err := dicom.ReadFileIDs(ctx, r, size)
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(p)
	var out []string
	for _, parts := range ids {
		rel := filepath.Join(parts...)
		if filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
			continue
		}
		out = append(out, findCase(base, rel))
	}
	return out, nil
}

// findCase returns base/rel, or the same path with its letters' case as on
// disk (DICOMDIR names are upper case; CD copies may not be).
func findCase(base, rel string) string {
	p := filepath.Join(base, rel)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if _, err := os.Stat(filepath.Join(base, strings.ToLower(rel))); err == nil {
		return filepath.Join(base, strings.ToLower(rel))
	}
	return p
}
