package export

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testImage(c color.Gray) image.Image {
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = c.Y
	}
	return img
}

// TestKeyImageNote writes a note from inputs that carry patient data and
// checks the page: none of it appears, the text is escaped, the page is
// well-formed, self-contained and holds both images.
func TestKeyImageNote(t *testing.T) {
	n := Note{
		Query:  NoteImage{Label: "Query", Image: testImage(color.Gray{Y: 40}), Caption: "CT · W 400 L 40"},
		Result: NoteImage{Label: "Result 2", Image: testImage(color.Gray{Y: 200}), Caption: "CT · W 1500 L -600"},
		Score:  0.91234, Rank: 2,
		Measurements: []string{"Query: distance 23.4 mm", "Result: area 110 mm² <b>"},
		Metadata: []NoteRow{
			{"Modality", "CT", "CT", false},
			{"Slices/frames", "40", "64", true},
			{"Frame time", "—", "—", false},
			{"Patient name", "DOE^JANE", "ROE^RICHARD", true},
			{"Patient ID", "PID493817", "PID000111", true},
			{"Birth date", "19610413", "19500101", true},
			{"Study date", "20210913", "20190101", true},
			{"PatientID", "PID493817", "X", true},
			{"Description", "DOE JANE CHEST", "ROE ABDOMEN", true},
			{"Institution", "ST ELSEWHERE", "ST ELSEWHERE", false},
		},
		Text:      "Similar nodule, see <script>alert('x')</script> & follow-up",
		Created:   time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC),
		Generator: "M3Ret Viewer test",
	}
	var buf bytes.Buffer
	if err := KeyImageNote(&buf, n); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, phi := range []string{"DOE", "JANE", "ROE", "PID493817", "PID000111", "19610413", "20210913", "ST ELSEWHERE", "Patient name"} {
		if strings.Contains(page, phi) {
			t.Errorf("the note contains %q", phi)
		}
	}
	for _, want := range []string{"ANONYMISED", "0.912", "rank 2", "Query: distance 23.4 mm", "Slices/frames", "Frame time",
		"&lt;script&gt;", "CT · W 1500 L -600", "@page { size: A4"} {
		if !strings.Contains(page, want) {
			t.Errorf("the note lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "area 110 mm² <b>") {
		t.Error("text not escaped")
	}
	if regexp.MustCompile(`(?i)(src|href)="(https?:|//|file:)|url\(`).MatchString(page) {
		t.Error("the note refers to something outside itself")
	}
	checkWellFormed(t, page)
	imgs := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) != 2 {
		t.Fatalf("%d embedded images, want 2", len(imgs))
	}
	for _, m := range imgs {
		data, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if img, err := png.Decode(bytes.NewReader(data)); err != nil || img.Bounds().Dx() != 64 {
			t.Errorf("embedded image: %v", err)
		}
	}
}

// checkWellFormed parses the page as XML (the note is written so that it
// is) and fails on the first error.
func checkWellFormed(t *testing.T, page string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(page, "<!DOCTYPE html>")))
	d.Entity = xml.HTMLEntity
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("the note does not parse: %v", err)
		}
	}
}

func TestIdentifyingField(t *testing.T) {
	for field, want := range map[string]bool{
		"Patient name": true, "PatientID": true, "Series UID": true, "Width": false, "Patient ID": true, "Birth date": true, "Study date": true,
		"Modality": false, "Frame time": false, "Slices/frames": false, "Default window": false,
		"Accession number": true, "Description": true, "Spacing (mm)": false,
	} {
		if got := identifyingField(field); got != want {
			t.Errorf("identifyingField(%q) = %v, want %v", field, got, want)
		}
	}
}
