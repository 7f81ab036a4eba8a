package origin

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

func TestCheckRedirect(t *testing.T) {
	mk := func(s string) *http.Request {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Request{URL: u}
	}
	first := mk("http://127.0.0.1:8701/dicom-web/studies")
	tests := []struct {
		name  string
		to    string
		hops  int
		cross bool
		many  bool
	}{
		{"same origin", "http://127.0.0.1:8701/other", 1, false, false},
		{"default port spelled out", "http://127.0.0.1:80/x", 1, true, false},
		{"other port", "http://127.0.0.1:8702/dicom-web/studies", 1, true, false},
		{"other host", "http://localhost:8701/dicom-web/studies", 1, true, false},
		{"other scheme", "https://127.0.0.1:8701/dicom-web/studies", 1, true, false},
		{"case of host", "HTTP://127.0.0.1:8701/y", 1, false, false},
		{"loop", "http://127.0.0.1:8701/dicom-web/studies", MaxRedirects + 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			via := []*http.Request{first}
			for len(via) < tt.hops {
				via = append(via, first)
			}
			err := CheckRedirect(mk(tt.to), via)
			if got := errors.Is(err, ErrCrossOrigin); got != tt.cross {
				t.Errorf("cross-origin: got %v (%v), want %v", got, err, tt.cross)
			}
			if got := errors.Is(err, ErrTooManyRedirects); got != tt.many {
				t.Errorf("too many: got %v (%v), want %v", got, err, tt.many)
			}
		})
	}
}

func TestOfDefaultPorts(t *testing.T) {
	for in, want := range map[string]string{
		"https://PACS.example:443/a": "https://pacs.example:443",
		"https://pacs.example/a":     "https://pacs.example:443",
		"http://[::1]:8042/":         "http://[::1]:8042",
	} {
		u, _ := url.Parse(in)
		if got := Of(u); got != want {
			t.Errorf("Of(%s) = %s, want %s", in, got, want)
		}
	}
}
