package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// ErrPathTooLong is wrapped when the system refuses a path for its
// length: a folder nested deeper than any path may reach (PATH_MAX, 4,096
// bytes on Linux). The folder is one problem of the walk; the rest goes on.
var ErrPathTooLong = errors.New("path longer than the system allows")

// errNotRegular is the reason a walk gives for a pipe, socket or device.
var errNotRegular = errors.New("not a regular file (a pipe, socket or device): not read")

// Walk expands root (a file, a folder walked recursively, a DICOMDIR or a
// ZIP archive) into the absolute paths of the files to try, in lexical
// order, skipping hidden entries and the licence notes that sample folders
// carry. Archive members are named ARCHIVE!/MEMBER. What could not be
// walked comes back as one error; WalkAll says it entry by entry.
func Walk(root string) ([]string, error) {
	files, problems := WalkAll(root)
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = fmt.Errorf("%s: %w", p.Path, p.Err)
	}
	return files, errors.Join(errs...)
}

// WalkAll is Walk reporting each entry it could not walk (an unreadable
// folder, a broken link, a refused archive, a folder nested past the
// system's path limit) as a Problem of its own, and going on with the
// rest. Symbolic links are followed, files and folders alike; a folder
// reached twice (a link loop) is walked once.
func WalkAll(root string) ([]string, []Problem) {
	files, problems, _ := WalkContext(context.Background(), root, nil)
	return files, problems
}

// WalkContext is WalkAll stopping, with what it found so far and
// ctx.Err(), when ctx is done. found (may be nil) is called with the
// number of files found so far each time it grows, while the walk goes on.
//
// The walk costs a fixed number of file system calls per entry whatever
// its depth: a folder is opened once, known by its device and inode (its
// volume and file index on Windows) read from the open folder, and only
// symbolic links are followed with a stat; no path is resolved component
// by component.
func WalkContext(ctx context.Context, root string, found func(n int)) ([]string, []Problem, error) {
	w := walk(ctx, root, found)
	return w.files, w.problems, ctx.Err()
}

// walk walks root and returns the walker, with what it found and what it
// cost.
func walk(ctx context.Context, root string, found func(n int)) *treeWalker {
	w := &treeWalker{ctx: ctx, found: found, seen: map[dirID]bool{}}
	w.walkRoot(root)
	return w
}

type treeWalker struct {
	ctx      context.Context
	found    func(n int)
	files    []string
	problems []Problem
	seen     map[dirID]bool // the folders walked
	ops      walkOps
}

// walkOps counts a walk's file system calls, by kind (for the tests: the
// walk must cost a fixed number of calls per entry).
type walkOps struct {
	opens int // folders opened and read
	stats int // stats of a link or of the root
	heads int // files whose first bytes were read
}

// total is every counted call.
func (o walkOps) total() int { return o.opens + o.stats + o.heads }

func (w *treeWalker) fail(path string, err error) {
	w.problems = append(w.problems, Problem{Path: path, Err: err})
}

// walkRoot adds what the path given to the walk holds.
func (w *treeWalker) walkRoot(root string) {
	abs, err := filepath.Abs(root)
	if err != nil {
		w.fail(root, err)
		return
	}
	w.entry(abs, fs.ModeSymlink, true) // stat it, following a link
}

// entry adds path, of the type its folder listed (a link is followed):
// a file, an archive's members, a DICOMDIR's files or a folder's entries.
func (w *treeWalker) entry(path string, typ fs.FileMode, top bool) {
	if typ&fs.ModeSymlink != 0 {
		w.ops.stats++
		st, err := os.Stat(path)
		if err != nil {
			w.fail(path, readErr("cannot read", "file", err))
			return
		}
		typ = st.Mode().Type()
	}
	switch {
	case typ.IsDir():
		w.folder(path)
	case !typ.IsRegular():
		w.fail(path, errNotRegular)
	case top && strings.EqualFold(filepath.Base(path), "DICOMDIR"):
		files, err := dicomdirFiles(w.ctx, path)
		w.add(path, files, err)
	default:
		w.file(path)
	}
}

// file adds a plain file, or an archive's members.
func (w *treeWalker) file(path string) {
	w.ops.heads++
	head, err := readHead(w.ctx, path, 4)
	switch {
	case errors.Is(err, syscall.ENAMETOOLONG):
		w.fail(path, readErr("", "file", err))
	case err == nil && isZip(head):
		members, err := walkZip(path)
		w.add(path, members, err)
	default: // a file that cannot be read now fails when it is read
		w.add(path, []string{path}, nil)
	}
}

func (w *treeWalker) add(path string, files []string, err error) {
	if err != nil {
		w.fail(path, err)
		return
	}
	w.files = append(w.files, files...)
	if w.found != nil && len(files) > 0 {
		w.found(len(w.files))
	}
}

// folder walks a folder's entries in lexical order, unless it was walked
// before (a link loop, or a folder reached twice).
func (w *treeWalker) folder(dir string) {
	w.ops.opens++
	entries, id, err := readFolder(dir)
	if id != nil {
		if w.seen[*id] {
			return
		}
		w.seen[*id] = true
	}
	if err != nil {
		w.fail(dir, readErr("cannot read folder", "folder", err))
	}
	for _, e := range entries { // those read before an error too
		if w.ctx.Err() != nil {
			return
		}
		name := e.Name()
		path := join(dir, name)
		if strings.HasPrefix(name, ".") || skipName(name) || (!e.IsDir() && readByAnother(path)) {
			continue
		}
		w.entry(path, e.Type(), false)
	}
}

// join is filepath.Join for a clean folder and a name from its listing,
// without Join's Clean, which would cost the whole path again.
func join(dir, name string) string {
	if os.IsPathSeparator(dir[len(dir)-1]) { // the root of a file system
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// readFolder opens a folder, reads who it is and all its entries, sorted
// by name, and closes it before its subfolders are walked (a deep tree
// would otherwise hold a descriptor per level).
func readFolder(dir string) ([]fs.DirEntry, *dirID, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	id, idErr := folderID(f)
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return cmp.Compare(a.Name(), b.Name()) })
	if idErr != nil {
		return entries, nil, errors.Join(err, idErr)
	}
	return entries, &id, err
}

// readErr says why a path could not be read without repeating the path
// (the problem names it, and a deep one runs to thousands of characters):
// what failed, and the system's reason; a path past the system's limit is
// a folder (or file) nested too deeply.
func readErr(what, kind string, err error) error {
	if errors.Is(err, syscall.ENAMETOOLONG) {
		return fmt.Errorf("%s nested too deeply (%w)", kind, ErrPathTooLong)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", what, err)
}

func skipName(name string) bool {
	switch strings.ToUpper(name) {
	case "LICENSE", "COPYRIGHT", "README", "README.MD", "DICOMDIR", "THUMBS.DB", ".DS_STORE":
		return true
	}
	return false
}
