package dept

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in    string
		nodes []Node
		tls   bool
		bad   bool
	}{
		{in: "weaviate://pacs-idx/Cases", nodes: []Node{{"pacs-idx", 8080, 50051}}},
		{in: "weaviate://127.0.0.1:9000/Cases?grpc=9001", nodes: []Node{{"127.0.0.1", 9000, 9001}}},
		{in: "weaviate://a:1,b:2,c:3/Cases?grpc=11,12,13", nodes: []Node{{"a", 1, 11}, {"b", 2, 12}, {"c", 3, 13}}},
		{in: "weaviate://a,b/Cases?grpc=7", nodes: []Node{{"a", 8080, 7}, {"b", 8080, 7}}},
		{in: "weaviate://idx.hospital/Cases?tls=1", nodes: []Node{{"idx.hospital", 443, 443}}, tls: true},
		{in: "weaviate://idx/Cases?ca=/etc/ca.pem", nodes: []Node{{"idx", 443, 443}}, tls: true},
		{in: "weaviate://a:1,b:2,c:3/Cases?grpc=11,12", bad: true},
		{in: "weaviate://idx/cases", bad: true},   // collections start with a capital
		{in: "weaviate://idx/", bad: true},        // no collection
		{in: "http://idx:8080/Cases", bad: true},  // wrong scheme
		{in: "weaviate://idx:0/Cases", bad: true}, // port
		{in: "weaviate://idx/Cases?grpc=x", bad: true},
	} {
		cfg, err := ParseURL(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadURL) {
				t.Errorf("%s: err %v, want ErrBadURL", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if cfg.TLS != tc.tls || len(cfg.Nodes) != len(tc.nodes) {
			t.Errorf("%s: %+v", tc.in, cfg)
			continue
		}
		for i := range tc.nodes {
			if cfg.Nodes[i] != tc.nodes[i] {
				t.Errorf("%s: node %d = %+v, want %+v", tc.in, i, cfg.Nodes[i], tc.nodes[i])
			}
		}
		again, err := ParseURL(cfg.String())
		if err != nil || again.String() != cfg.String() {
			t.Errorf("%s: String %q does not parse back (%v)", tc.in, cfg.String(), err)
		}
	}
}

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: a part of the printed filter, without spaces; "" for no filter
		err      bool
	}{
		{in: "", want: ""},
		{in: "modality:CT", want: `path:["modality"]valueText:"CT"`},
		{in: "+modality:CT +body_part:CHEST", want: `operator:And`},
		{in: "modality:CT modality:MR", want: `operator:Or`},
		{in: "-kind:video", want: `operator:Not`},
		{in: `study_date:>="2020-01-01"`, want: `operator:GreaterThanEqualpath:["studyDate"]valueDate:"2020-01-01T00:00:00Z"`},
		{in: "frames:>100", want: `operator:GreaterThanpath:["frames"]valueInt:100`},
		{in: "description:FLAIR", want: `valueText:"flair"`},
		{in: "spacing_z:<=2.5", want: `valueNumber:2.5`},
		{in: "patient_id:123", err: true},
		{in: "modality:C*", err: true},
		{in: "modality:>CT", err: true},
		{in: "frames:many", err: true},
		{in: "nosuch:1", err: true},
		{in: `description:"unbalanced`, err: true},
	} {
		w, err := Filter(tc.in)
		if tc.err {
			if !errors.Is(err, ErrFilter) {
				t.Errorf("%q: err %v, want ErrFilter", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if tc.want == "" {
			if w != nil {
				t.Errorf("%q: filter %s, want none", tc.in, w)
			}
			continue
		}
		if w == nil || !strings.Contains(strings.ReplaceAll(w.String(), " ", ""), tc.want) {
			t.Errorf("%q: filter %v, want it to contain %s", tc.in, w, tc.want)
		}
	}
}

func TestObjectID(t *testing.T) {
	a, b := ObjectID("d0123456789abcdef"), ObjectID("d0123456789abcdef")
	if a != b || len(a) != 36 || a[14] != '5' {
		t.Fatalf("ObjectID not a stable name-based UUID: %s %s", a, b)
	}
	if ObjectID("other") == a {
		t.Fatal("two item ids share an object id")
	}
}
