package library

import (
	"context"
	"errors"
	"testing"

	"github.com/m3ret/viewer/library/internal/uid"
	"github.com/m3ret/viewer/library/pacs"
)

// TestDeptResultUIDsChecked: a department result whose "UIDs" are not
// DICOM UIDs (planted by anyone holding the index key) reaches no PACS:
// neither its preview nor its fetch looks the PACS up. With valid UIDs, a
// PACS this workstation lacks is reported with the resolver's own error
// (so the window can say "not configured", not "another workstation").
func TestDeptResultUIDsChecked(t *testing.T) {
	l := openLib(t, t.TempDir(), &fakeEmbedder{id: "fake@1"})
	errUnknown := errors.New("no PACS of that name")
	asked := 0
	l.SetPACS(func(string) (*pacs.Client, error) { asked++; return nil, errUnknown })
	for _, tc := range []struct {
		name          string
		study, series string
		want          error
	}{
		{name: "path as study UID", study: "../../etc/passwd", series: "1.2.3", want: uid.ErrInvalid},
		{name: "path in series UID", study: "1.2", series: "1.2/../../x", want: uid.ErrInvalid},
		{name: "query in study UID", study: "1.2?x=1", series: "1.2.3", want: uid.ErrInvalid},
		{name: "empty series UID", study: "1.2", series: "", want: uid.ErrInvalid},
		{name: "valid, PACS not configured", study: "1.2", series: "1.2.3", want: errUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked = 0
			it := Item{ID: "d1", Kind: "image", Source: &Source{Server: "main", StudyUID: tc.study, SeriesUID: tc.series}}
			_, perr := l.RemotePreview(context.Background(), it, 128)
			_, ferr := l.Fetch(context.Background(), it, nil)
			for _, err := range []error{perr, ferr} {
				if !errors.Is(err, tc.want) {
					t.Fatalf("preview: %v, fetch: %v; want %v", perr, ferr, tc.want)
				}
			}
			if tc.want == uid.ErrInvalid && asked != 0 {
				t.Fatalf("the PACS was looked up %d times for a malformed UID", asked)
			}
		})
	}
}
