package app

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m3ret/viewer/app/cli"
)

// voteLibrary imports four pictures and returns the library and their ids
// by file name.
func voteLibrary(t *testing.T) (string, map[string]string) {
	t.Helper()
	requireORT(t)
	lib := filepath.Join(t.TempDir(), "lib")
	code, out, errs := runCLI(t, "import", "--library", lib, "--json", writeImages(t, 4))
	var rep importDoc
	if json.Unmarshal([]byte(out), &rep); code != cli.ExitOK || len(rep.Items) != 4 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	ids := map[string]string{}
	for _, it := range rep.Items {
		ids[filepath.Base(it.Path)] = it.ID
	}
	return lib, ids
}

func TestQueryVote(t *testing.T) {
	lib, ids := voteLibrary(t)
	query := []string{"query", "--library", lib, "--item", ids["d.png"], "--k", "3"}
	if _, out, _ := runCLI(t, append(query, "--json")...); strings.Contains(out, `"vote"`) || strings.Contains(out, `"unlabelled"`) {
		t.Fatalf("a vote without labels: %s", out)
	}
	if _, out, _ := runCLI(t, query...); strings.Contains(out, "vote") {
		t.Fatalf("a vote line without labels: %s", out)
	}
	for name, label := range map[string]string{"a.png": "tumour", "b.png": "tumour", "c.png": "nor\x1bmal"} {
		if code, _, errs := runCLI(t, "label", "--library", lib, ids[name], label); code != cli.ExitOK {
			t.Fatalf("label: %s", errs)
		}
	}
	runCLI(t, "label", "--library", lib, ids["b.png"], "--clear")
	code, out, errs := runCLI(t, append(query, "--json")...)
	var doc struct {
		Results []struct {
			ID    string
			Score float64
		}
		Vote       map[string]float64
		Unlabelled *int
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != cli.ExitOK || len(doc.Results) != 3 {
		t.Fatalf("query: %d %v %s %s", code, err, out, errs)
	}
	score := map[string]float64{}
	for _, r := range doc.Results {
		score[r.ID] = max(r.Score, 0)
	}
	want := score[ids["a.png"]] / (score[ids["a.png"]] + score[ids["c.png"]])
	if doc.Unlabelled == nil || *doc.Unlabelled != 1 || len(doc.Vote) != 2 || math.Abs(doc.Vote["tumour"]-want) > 1e-6 ||
		math.Abs(doc.Vote["tumour"]+doc.Vote["nor\x1bmal"]-1) > 1e-6 {
		t.Fatalf("vote %v unlabelled %v, want tumour %.4f: %s", doc.Vote, doc.Unlabelled, want, out)
	}
	_, out, _ = runCLI(t, query...)
	line := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if !strings.HasPrefix(line, "vote (k=3): ") || !strings.Contains(line, `nor\x1bmal`) ||
		!strings.HasSuffix(line, "; 1 neighbour without a label\n") {
		t.Fatalf("vote line %q", line)
	}
}
