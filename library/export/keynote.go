package export

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"io"
	"slices"
	"strings"
	"time"
)

// Note is a key-image note of a comparison: the two images as they were
// displayed, their similarity, measurements, how their metadata differ,
// and the user's words. The caller renders the images (window/level and
// measurements drawn in); KeyImageNote lays them out on one page.
type Note struct {
	Title        string    // e.g. "Similar case"; "Key-image note" when empty
	Query        NoteImage // the query as displayed
	Result       NoteImage // the result as displayed
	Score        float64   // cosine similarity of the two
	Rank         int       // the result's rank (0: not shown)
	Measurements []string  // as text, e.g. "Query: distance 23.4 mm"
	Metadata     []NoteRow // the metadata comparison
	Text         string    // free text
	Created      time.Time // when the note was made (not a study date)
	Generator    string    // e.g. "M3Ret Viewer 0.1.0"
}

// NoteImage is one rendered view and a line saying what it shows (modality,
// window, slice).
type NoteImage struct {
	Label   string
	Image   image.Image
	Caption string
}

// NoteRow is one line of the metadata comparison (viewer.MetaRow).
type NoteRow struct {
	Field, Query, Result string
	Differs              bool
}

// identifying lists parts of metadata field names that can identify a
// patient: such rows never reach a note (names, IDs, birth and other
// dates, descriptions, places, people), following the basic profile.
// "id" and "uid" count as whole words only ("width" is harmless).
var (
	identifying = []string{"patient", "name", "birth", "accession", "date", "institution",
		"physician", "operator", "station", "address", "description", "comment"}
	identifyingWords = []string{"id", "ids", "uid", "uids"}
)

// anonymousRows drops the rows whose field could identify the patient.
func anonymousRows(rows []NoteRow) []NoteRow {
	var out []NoteRow
	for _, r := range rows {
		if !identifyingField(r.Field) {
			out = append(out, r)
		}
	}
	return out
}

func identifyingField(field string) bool {
	lower := strings.ToLower(field)
	for _, part := range identifying {
		if strings.Contains(lower, part) {
			return true
		}
	}
	words := strings.FieldsFunc(lower, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	for _, w := range words {
		if slices.Contains(identifyingWords, w) {
			return true
		}
	}
	return false
}

// noteView is what the template sees.
type noteView struct {
	Note
	QuerySrc, ResultSrc template.URL
	ScoreText           string
	Rows                []NoteRow
	CreatedText         string
}

// KeyImageNote writes the note as one self-contained HTML page: images
// embedded as PNG data, no external references, A4 when printed (a
// browser prints it to PDF). Metadata rows that could identify the
// patient are left out and the page says it is anonymised; every text is
// escaped.
func KeyImageNote(w io.Writer, n Note) error {
	v := noteView{Note: n, ScoreText: fmt.Sprintf("%.3f", n.Score), Rows: anonymousRows(n.Metadata)}
	if v.Title == "" {
		v.Title = "Key-image note"
	}
	if !n.Created.IsZero() {
		v.CreatedText = n.Created.Format("2006-01-02 15:04")
	}
	var err error
	if v.QuerySrc, err = dataURL(n.Query.Image); err != nil {
		return fmt.Errorf("key-image note: query image: %w", err)
	}
	if v.ResultSrc, err = dataURL(n.Result.Image); err != nil {
		return fmt.Errorf("key-image note: result image: %w", err)
	}
	if err := noteTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("key-image note: %w", err)
	}
	return nil
}

// dataURL encodes an image as a PNG data URL ("" for none).
func dataURL(img image.Image) (template.URL, error) {
	if img == nil {
		return "", nil
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// noteTemplate lays the note out with tables rather than flexbox, so that
// old engines (wkhtmltoimage's WebKit, the gui-check's renderer) draw it
// as browsers do.
var noteTemplate = template.Must(template.New("note").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/>
<title>{{.Title}}</title>
<style>
@page { size: A4; margin: 12mm; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10.5pt; color: #111; margin: 0 auto; max-width: 186mm; padding: 6mm 4mm; background: #fff; }
h1 { font-size: 17pt; margin: 0; padding-bottom: 2mm; border-bottom: 2px solid #234; }
h2 { font-size: 11.5pt; margin: 4mm 0 1.5mm; color: #234; }
.anon { float: right; font-weight: bold; color: #fff; background: #2a6; padding: 1mm 2.5mm; border-radius: 2mm; font-size: 9.5pt; }
table.pair { width: 100%; table-layout: fixed; border-collapse: collapse; margin-top: 4mm; }
td.frame { width: 49%; height: 78mm; background: #000; text-align: center; vertical-align: middle; padding: 0; }
td.frame img { max-width: 100%; max-height: 78mm; }
td.gap { width: 2%; }
td.cap { background: #eef1f4; padding: 1.5mm 2mm; font-size: 9pt; vertical-align: top; }
td.cap b { display: block; font-size: 10pt; }
.score { font-size: 13pt; margin: 3mm 0 0; }
.score b { font-size: 16pt; }
table.meta { border-collapse: collapse; width: 100%; font-size: 9pt; }
table.meta th, table.meta td { text-align: left; padding: 0.8mm 2mm; border-bottom: 1px solid #ddd; }
table.meta tr.differs td { color: #a40; font-weight: bold; }
ul { margin: 0; padding-left: 5mm; }
.text { white-space: pre-wrap; border-left: 3px solid #234; padding: 1mm 3mm; margin: 0; }
.foot { margin-top: 5mm; font-size: 8pt; color: #555; border-top: 1px solid #ccc; padding-top: 1.5mm; }
@media print { body { padding: 0; } }
</style></head>
<body>
<h1><span class="anon">ANONYMISED</span>{{.Title}}</h1>
<table class="pair"><tr>
<td class="frame">{{if .QuerySrc}}<img src="{{.QuerySrc}}" alt="query"/>{{end}}</td><td class="gap"></td>
<td class="frame">{{if .ResultSrc}}<img src="{{.ResultSrc}}" alt="result"/>{{end}}</td></tr>
<tr><td class="cap"><b>{{or .Query.Label "Query"}}</b>{{.Query.Caption}}</td><td class="gap"></td>
<td class="cap"><b>{{or .Result.Label "Result"}}</b>{{.Result.Caption}}</td></tr></table>
<p class="score">Similarity <b>{{.ScoreText}}</b>{{if .Rank}} · rank {{.Rank}}{{end}}</p>
{{if .Measurements}}<h2>Measurements</h2><ul>{{range .Measurements}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Rows}}<h2>Metadata</h2>
<table class="meta"><tr><th></th><th>Field</th><th>Query</th><th>Result</th></tr>
{{range .Rows}}<tr{{if .Differs}} class="differs"{{end}}><td>{{if .Differs}}≠{{end}}</td><td>{{.Field}}</td><td>{{.Query}}</td><td>{{.Result}}</td></tr>
{{end}}</table>{{end}}
{{if .Text}}<h2>Notes</h2><p class="text">{{.Text}}</p>{{end}}
<p class="foot">Anonymised: no patient name, ID, birth date, study dates or descriptions (DICOM PS3.15 basic profile).{{if .CreatedText}} Made {{.CreatedText}}{{end}}{{if .Generator}} with {{.Generator}}{{end}}.</p>
</body></html>
`))
