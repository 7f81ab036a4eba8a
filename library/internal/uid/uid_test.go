package uid

import (
	"errors"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1.2.840.10008.1.2.1", true},
		{"1.2.840.10008.1.2.4.90", true},
		{"0.1", true},
		{"1", true},
		{"", false},
		{"1..2", false},
		{".1.2", false},
		{"1.2.", false},
		{"1.02", false},
		{"1.2.840.PHILOGPID9", false},
		{"../../etc/passwd", false},
		{"1.2 ", false},
		{"1.2\n3", false},
		{strings.Repeat("1", 64), true},
		{strings.Repeat("1", 65), false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCheckDoesNotQuote(t *testing.T) {
	err := Check("study UID", "PHILOGPID9")
	if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "PHI") {
		t.Fatalf("Check: %v", err)
	}
}

func FuzzValid(f *testing.F) {
	f.Add("1.2.3")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) && (len(s) > MaxLen || strings.Trim(s, "0123456789.") != "") {
			t.Fatalf("accepted %q", s)
		}
	})
}
