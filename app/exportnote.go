//go:build !headless

package app

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/export"
	"github.com/m3ret/viewer/viewer"
)

// views is the comparison as displayed: each side rendered with its
// window/level and its measurements.
type views struct{ query, result image.Image }

// renderViews draws both sides of the comparison (on the UI goroutine),
// 900 pixels wide: in the shape of the views on screen, or (for the note)
// in the shape of the note's frames, where the zoom to fit makes the
// image larger.
func (g *GUI) renderViews(noteShape bool) views {
	return views{renderView(g.compare.Query, noteShape), renderView(g.compare.Result, noteShape)}
}

func renderView(v *viewer.ImageView, noteShape bool) image.Image {
	if v.Sample() == nil {
		return nil
	}
	w, h := 900, 900
	if s := v.Size(); s.Width > 0 && s.Height > 0 {
		h = min(max(int(float32(w)*s.Height/s.Width), 300), 1400)
	}
	if noteShape {
		h = 770 // the note's frames are 91 × 78 mm
	}
	return v.Render(w, h)
}

// buildNote gathers the key-image note of the comparison shown (on the UI
// goroutine); export.KeyImageNote leaves out what could identify the
// patient.
func (g *GUI) buildNote(text string) export.Note {
	res := g.shownResult()
	v := g.renderViews(true)
	var rows []export.NoteRow
	for _, r := range g.compare.Metadata() {
		rows = append(rows, export.NoteRow{Field: r.Field, Query: r.Query, Result: r.Result, Differs: r.Differs})
	}
	return export.Note{Title: "Key-image note",
		Query:  export.NoteImage{Label: "Query", Image: v.query, Caption: viewCaption(g.compare.Query)},
		Result: export.NoteImage{Label: fmt.Sprintf("Result #%d", res.Rank), Image: v.result, Caption: viewCaption(g.compare.Result)},
		Score:  float64(res.Score), Rank: res.Rank,
		Measurements: append(measureLines("Query", g.compare.Query), measureLines("Result", g.compare.Result)...),
		Metadata:     rows, Text: text, Created: time.Now(), Generator: "M3Ret Viewer " + Version}
}

// shownResult is the result beside the query.
func (g *GUI) shownResult() library.Result {
	if cur := g.s.Current(); cur != nil {
		for _, r := range cur.Results {
			if r.Item.ID == g.s.Comparing() {
				return r
			}
		}
	}
	return library.Result{}
}

// viewCaption says what a view shows: modality, plane and slice, window.
func viewCaption(v *viewer.ImageView) string {
	s := v.Sample()
	if s == nil {
		return ""
	}
	parts := []string{cli.Or(s.Meta.Modality, string(s.Kind))}
	if p := v.PlaneName(); p != "" {
		parts = append(parts, p)
	}
	if n := v.Frames(); n > 1 {
		parts = append(parts, fmt.Sprintf("slice %d/%d", v.Frame()+1, n))
	}
	if w, inv := v.Window(); w.Width > 0 {
		parts = append(parts, "W "+number(w.Width)+" L "+number(w.Center))
		if inv {
			parts = append(parts, "inverted")
		}
	}
	return strings.Join(parts, " · ")
}

// number writes a window value with at most one decimal.
func number(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// measureLines lists a view's measurements as text.
func measureLines(side string, v *viewer.ImageView) []string {
	var out []string
	for i, m := range v.Measured() {
		line := fmt.Sprintf("%s %d · %s", side, i+1, m.Kind)
		if m.Label != "" {
			line += " · " + m.Label
		}
		out = append(out, line+": "+strings.Join(m.Value.Lines(), "; "))
	}
	return out
}

// writeViews writes the two views into dir under names that say nothing
// of the patient, and returns them.
func writeViews(dir, ext string, v views) (string, error) {
	stamp := time.Now().Format("20060102-150405")
	var paths []string
	for _, side := range []struct {
		name string
		img  image.Image
	}{{"query", v.query}, {"result", v.result}} {
		if side.img == nil {
			continue
		}
		p, err := createNew(dir, "m3ret-"+side.name+"-"+stamp, ext, func(w io.Writer) error {
			if ext == ".jpg" {
				return jpeg.Encode(w, side.img, &jpeg.Options{Quality: 92})
			}
			return png.Encode(w, side.img)
		})
		if err != nil {
			return "", err
		}
		paths = append(paths, p)
	}
	return strings.Join(paths, ", "), nil
}

// writeNote writes a key-image note into dir.
func writeNote(dir string, n export.Note) (string, error) {
	return createNew(dir, "key-image-note-"+time.Now().Format("20060102-150405"), ".html",
		func(w io.Writer) error { return export.KeyImageNote(w, n) })
}

// createNew writes a new file dir/base+ext (base-2+ext, … when taken),
// never overwriting one; a failed write leaves nothing behind.
func createNew(dir, base, ext string, write func(io.Writer) error) (string, error) {
	for i := 1; ; i++ {
		name := base + ext
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		bw := bufio.NewWriter(f)
		if err = write(bw); err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return "", err
		}
		return p, nil
	}
}

// startupExportNote writes the key-image note of the comparison shown to
// path (--export-note, for scripts); "" does nothing.
func (g *GUI) startupExportNote(path string) error {
	if path == "" {
		return nil
	}
	var note export.Note
	ok := false
	fyne.DoAndWait(func() {
		if ok = g.comparing(); ok {
			note = g.buildNote("Written by --export-note: the comparison on screen, as it would go to a tumour board.")
		}
	})
	if !ok {
		return errors.New("--export-note: no comparison is shown (give --query and --compare)")
	}
	var b strings.Builder
	if err := export.KeyImageNote(&b, note); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
