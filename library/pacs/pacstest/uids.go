package pacstest

import (
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// UIDs returns the Study and Series Instance UIDs of a DICOM file, for a
// fake server that must serve files under the UIDs they carry.
func UIDs(t testing.TB, file string) (study, series string) {
	t.Helper()
	ds, err := dicom.ParseFile(file, nil, dicom.SkipPixelData())
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	get := func(tg tag.Tag) string {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return dicom.MustGetStrings(e.Value)[0]
	}
	return get(tag.StudyInstanceUID), get(tag.SeriesInstanceUID)
}
