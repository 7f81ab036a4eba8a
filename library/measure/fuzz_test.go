package measure

import "testing"

// FuzzUnmarshal: a stored measurement document (read back from the
// catalog, possibly damaged) never panics the reader, and what it accepts
// survives a round trip.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`[{"kind":"length","axis":0,"frame":0,"points":[{"x":1,"y":2},{"x":30,"y":40}]}]`))
	f.Add([]byte(`[{"kind":"ellipse","points":[{"x":1,"y":2},{"x":3,"y":4}]}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		ms, err := Unmarshal(doc)
		if err != nil || len(ms) == 0 {
			return
		}
		b, err := Marshal(ms)
		if err != nil {
			t.Fatalf("accepted %q, cannot write it back: %v", doc, err)
		}
		if again, err := Unmarshal(b); err != nil || len(again) != len(ms) {
			t.Fatalf("round trip of %q: %v", doc, err)
		}
	})
}
