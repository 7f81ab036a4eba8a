package quietlocale

import "testing"

func TestIsPOSIX(t *testing.T) {
	tests := []struct {
		loc  string
		want bool
	}{
		{"C.UTF-8", true}, {"C.utf8", true}, {"POSIX.UTF-8", true}, {"C@euro", true},
		{"C", false}, {"POSIX", false}, {"", false}, {"en_US.UTF-8", false}, {"Ca_ES.UTF-8", false},
	}
	for _, tc := range tests {
		if got := isPOSIX(tc.loc); got != tc.want {
			t.Errorf("isPOSIX(%q) = %v, want %v", tc.loc, got, tc.want)
		}
	}
}
