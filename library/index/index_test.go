package index

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// naive is an independent oracle: score everything, sort.
func naive(vecs map[string][]float32, q []float32, k int, keep func(string) bool) []Hit {
	var all []Hit
	for id, v := range vecs {
		if keep != nil && !keep(id) {
			continue
		}
		var s float64
		for i := range q {
			s += float64(q[i]) * float64(v[i])
		}
		all = append(all, Hit{id, float32(s)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func TestExactMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const dim = 32
	e := NewExact(dim)
	vecs := map[string][]float32{}
	for i := range 500 {
		id := string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('A'+i/260))
		vecs[id] = unit(r, dim)
		if err := e.Add(id, vecs[id]); err != nil {
			t.Fatal(err)
		}
	}
	for id := range vecs { // remove a fifth
		if id[0] == 'c' || id[0] == 'q' || id[0] == 'x' || id[0] == 'e' || id[0] == 'm' {
			e.Remove(id)
			delete(vecs, id)
		}
	}
	if e.Len() != len(vecs) {
		t.Fatalf("len %d want %d", e.Len(), len(vecs))
	}
	keepOdd := func(id string) bool { return id[0]%2 == 1 }
	tests := []struct {
		name string
		k    int
		keep func(string) bool
	}{{"k1", 1, nil}, {"k10", 10, nil}, {"filtered", 7, keepOdd}, {"k>n", 10000, nil}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				q := unit(r, dim)
				got, err := e.Search(q, tc.k, tc.keep)
				if err != nil {
					t.Fatal(err)
				}
				want := naive(vecs, q, tc.k, tc.keep)
				if len(got) != len(want) {
					t.Fatalf("%d hits, want %d", len(got), len(want))
				}
				for i := range want {
					if math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5 {
						t.Fatalf("rank %d: %v want %v", i, got[i], want[i])
					}
				}
			}
		})
	}
	if _, err := e.Search(make([]float32, dim+1), 3, nil); err == nil {
		t.Fatal("wrong dimension accepted")
	}
}

func TestMetaMatch(t *testing.T) {
	m, fresh, err := OpenMeta(t.TempDir() + "/meta")
	if err != nil || !fresh {
		t.Fatalf("open: %v fresh=%v", err, fresh)
	}
	defer m.Close()
	err = m.Put(map[string]Doc{
		"a": {Kind: "volume", Modality: "CT", BodyPart: "CHEST", Description: "CT chest with contrast", StudyDate: "2021-03-04T00:00:00Z"},
		"b": {Kind: "image2d", Modality: "MR", BodyPart: "BRAIN", Description: "axial FLAIR"},
		"c": {Kind: "image2d", Modality: "CT", BodyPart: "HEAD", Description: "head without contrast", StudyDate: "2019-01-01T00:00:00Z"},
	}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := m.Generation(); !ok || g != 7 {
		t.Fatalf("generation %d %v", g, ok)
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"modality:CT", []string{"a", "c"}},
		{"+modality:CT +body_part:CHEST", []string{"a"}},
		{"description:flair", []string{"b"}},
		{`study_date:>="2020-01-01"`, []string{"a"}},
		{"contrast", []string{"a", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got, err := m.Match(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
			for _, id := range tc.want {
				if !got[id] {
					t.Fatalf("got %v want %v", got, tc.want)
				}
			}
		})
	}
}
