package cli

import "testing"

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CT chest", "CT chest"},
		{"Brustkorb é 胸部", "Brustkorb é 胸部"},
		{"main\nFAKE", `main\nFAKE`},
		{"a\r\tb", `a\r\tb`},
		{"\x1b[2J\x07", `\x1b[2J\a`},
		{"\u0085next", `\u0085next`},
		{"exe.\u202etxt", `exe.\u202etxt`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffbyte", `bad\xffbyte`},
		{`back\slash`, `back\slash`},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
