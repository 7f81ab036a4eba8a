package cli

import (
	"bytes"
	"testing"
)

// TestProgressWhileFinding: (0, n) says what was found so far; the next
// line overwrites it whole.
func TestProgressWhileFinding(t *testing.T) {
	tests := []struct {
		name  string
		calls [][2]int
		want  string
	}{
		{"found, then done", [][2]int{{0, 12}, {12, 12}}, "\rimporting: 12 found\rimporting 12/12    \n"},
		{"nothing to do", [][2]int{{0, 0}}, "\rimporting 0/0\n"},
		{"no walk", [][2]int{{2, 2}}, "\rimporting 2/2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			p := Progress(&b, "importing")
			for _, c := range tt.calls {
				p(c[0], c[1])
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}
