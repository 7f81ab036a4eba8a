package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Catalog, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, p
}

func TestPutGetDelete(t *testing.T) {
	c, p := openTemp(t)
	now := time.Now()
	entries := []Entry{
		{Item: Item{ID: "a", Kind: "image2d", Path: "/x/a.png", Added: now}, Thumbnail: []byte("png-a"), Model: "m1", Vector: []float32{1, 0}},
		{Item: Item{ID: "b", Kind: "volume", Path: "/x/b.dcm", Added: now.Add(time.Second)}, Thumbnail: []byte("png-b"), Model: "m1", Vector: []float32{0, -1.5}},
	}
	if err := c.PutAll(entries); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("catalog file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	tests := []struct {
		id   string
		kind string
		vec  []float32
	}{{"a", "image2d", []float32{1, 0}}, {"b", "volume", []float32{0, -1.5}}}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			it, err := c.Get(tc.id)
			if err != nil || it.Kind != tc.kind {
				t.Fatalf("get: %+v %v", it, err)
			}
			v, err := c.Vector("m1", tc.id)
			if err != nil || len(v) != 2 || v[0] != tc.vec[0] || v[1] != tc.vec[1] {
				t.Fatalf("vector %v %v", v, err)
			}
			if _, err := c.Vector("other-model", tc.id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("vector under another model: %v", err)
			}
		})
	}
	items, _ := c.Items()
	if len(items) != 2 || items[0].ID != "a" {
		t.Fatalf("items %+v", items)
	}
	if err := c.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if has, _ := c.Has("a"); has {
		t.Fatal("delete kept the item")
	}
	if has, err := c.Has("b"); !has || err != nil {
		t.Fatal("delete removed the wrong item")
	}
	if _, err := c.Thumbnail("a"); !errors.Is(err, ErrNotFound) {
		t.Fatal("thumbnail survived delete")
	}
	n := 0
	_ = c.EachVector("m1", func(string, []float32) error { n++; return nil })
	if n != 1 {
		t.Fatalf("%d vectors after delete", n)
	}
}

func TestSettings(t *testing.T) {
	c, _ := openTemp(t)
	if v, err := c.Setting("model"); v != "" || err != nil {
		t.Fatal("unset setting not empty")
	}
	if err := c.SetSetting("model", "baseline@1"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Setting("model"); v != "baseline@1" || err != nil {
		t.Fatal("setting not kept")
	}
}
