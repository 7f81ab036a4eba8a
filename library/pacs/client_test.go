package pacs

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m3ret/viewer/library/pacs/pacstest"
)

// fakeDICOM is a synthetic instance of study 1.2, series 1.2.3 with
// payload after its dataset (the real-server tests use real files).
func fakeDICOM(payload string) []byte {
	return append(pacstest.Instance("1.2", "1.2.3", "1.2.3.1"), payload...)
}

// multipartBody writes parts as a multipart/related answer; cut > 0 stops
// after that many bytes (a connection dropped mid-body).
func multipartBody(w http.ResponseWriter, parts [][]byte, ctype string, cut int) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}})
		pw.Write(p)
	}
	mw.Close()
	w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+mw.Boundary())
	b := buf.Bytes()
	if cut > 0 {
		w.Header().Set("Content-Length", fmt.Sprint(len(b))) // promises more than it sends
		b = b[:cut]
	}
	w.Write(b)
}

func newTestClient(t *testing.T, h http.Handler, cfg Config) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL + "/dicom-web"
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = time.Millisecond
	return c
}

func TestFindStudiesParsesDICOMJSON(t *testing.T) {
	var got *http.Request
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/dicom+json")
		fmt.Fprint(w, `[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]},
			"00080020":{"vr":"DA","Value":["20240105"]},"00080061":{"vr":"CS","Value":["CT","SR"]},
			"00201206":{"vr":"IS","Value":[3]},"00201208":{"vr":"IS","Value":["120"]}}]`)
	}), Config{Token: "s3cret"})
	studies, err := c.FindStudies(context.Background(), Query{PatientName: "Doe*", Modality: "CT", DateFrom: "20240101", DateTo: "20241231", Limit: 5, Offset: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := Study{UID: "1.2.3", PatientName: "Doe^Jane", Date: "20240105", Modalities: []string{"CT", "SR"}, Series: 3, Instances: 120}
	if len(studies) != 1 || fmt.Sprint(studies[0]) != fmt.Sprint(want) {
		t.Fatalf("%+v", studies)
	}
	q := got.URL.Query()
	if got.URL.Path != "/dicom-web/studies" || q.Get("PatientName") != "Doe*" || q.Get("ModalitiesInStudy") != "CT" ||
		q.Get("StudyDate") != "20240101-20241231" || q.Get("limit") != "5" || q.Get("offset") != "10" ||
		got.Header.Get("Authorization") != "Bearer s3cret" {
		t.Fatalf("request %s %v %v", got.URL.Path, q, got.Header)
	}
}

func TestErrorClasses(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch study := strings.Split(r.URL.Path, "/")[3]; study {
		case "1.1":
			w.WriteHeader(http.StatusUnauthorized)
		case "1.2":
			w.WriteHeader(http.StatusNotFound)
		case "1.3":
			w.WriteHeader(http.StatusInternalServerError)
		case "1.4":
			fmt.Fprint(w, "<html>")
		}
	}), Config{User: "alice", Password: "pa55word"})
	tests := []struct {
		study string
		want  error
		calls int32
	}{
		{"1.1", ErrUnauthorized, 1},
		{"1.2", ErrNotFound, 1},
		{"1.3", ErrServer, 4}, // retried 3 times
		{"1.4", ErrBadAnswer, 1},
	}
	for _, tc := range tests {
		calls.Store(0)
		_, err := c.FindInstances(context.Background(), tc.study, "1.2.840.99", Query{})
		if !errors.Is(err, tc.want) || calls.Load() != tc.calls || strings.Contains(err.Error(), "pa55word") ||
			strings.Contains(err.Error(), "1.2.840") {
			t.Errorf("%s: %v after %d calls", tc.study, err, calls.Load())
		}
		if strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("%s: message of several lines: %q", tc.study, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := New(Config{URL: "http://" + addr + "/dicom-web", Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = time.Millisecond
	if _, err := c.FindStudies(context.Background(), Query{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("%v", err)
	}
}

func TestRetrieveStreamsParts(t *testing.T) {
	parts := [][]byte{fakeDICOM("first"), fakeDICOM(strings.Repeat("x", 200000))}
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter)
		files int
		want  error
	}{
		{"whole", func(w http.ResponseWriter) { multipartBody(w, parts, "application/dicom", 0) }, 2, nil},
		{"cut short", func(w http.ResponseWriter) { multipartBody(w, parts, "application/dicom", 1000) }, 1, ErrTruncated},
		{"not DICOM", func(w http.ResponseWriter) {
			multipartBody(w, [][]byte{parts[0], []byte("<html>oops</html>")}, "text/html", 0)
		}, 0, ErrNotDICOM},
		{"no preamble", func(w http.ResponseWriter) {
			multipartBody(w, [][]byte{[]byte("not dicom at all")}, "application/dicom", 0)
		}, 0, ErrNotDICOM},
		{"not multipart", func(w http.ResponseWriter) { fmt.Fprint(w, "{}") }, 0, ErrBadAnswer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var accept string
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				accept = r.Header.Get("Accept")
				tc.serve(w)
			}), Config{})
			dir := filepath.Join(t.TempDir(), "series")
			var seen int
			files, err := c.Retrieve(context.Background(), "1.2", "1.2.3", dir, func(_ string, n int, _ int64) { seen = n })
			if !errors.Is(err, tc.want) || len(files) != tc.files || seen != tc.files {
				t.Fatalf("%d files (progress %d), %v", len(files), seen, err)
			}
			if !strings.Contains(accept, "transfer-syntax=*") {
				t.Fatalf("accept %q", accept)
			}
			for i, f := range files {
				if b, err := os.ReadFile(f); err != nil || !bytes.Equal(b, parts[i]) {
					t.Fatalf("file %d differs: %v", i, err)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

// hanging is a server that never answers (until the request goes away).
var hanging = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

func TestRetrieveCancelWhileServerHangs(t *testing.T) {
	c := newTestClient(t, hanging, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Retrieve(ctx, "1.2", "", t.TempDir(), nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

func TestParseDates(t *testing.T) {
	tests := []struct{ in, from, to string }{
		{"20240101", "20240101", "20240101"},
		{"20240101-20241231", "20240101", "20241231"},
		{"20240101-", "20240101", ""},
		{"-20241231", "", "20241231"},
	}
	for _, tc := range tests {
		if f, to, err := ParseDates(tc.in); err != nil || f != tc.from || to != tc.to {
			t.Errorf("%q: %q %q %v", tc.in, f, to, err)
		}
	}
	for _, bad := range []string{"2024", "2024-01-01", "yesterday"} {
		if _, _, err := ParseDates(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestTLSWithCAFile: a server whose certificate the system does not trust
// is refused, and reached once its CA is given.
func TestTLSWithCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "[]") }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	plain, _ := New(Config{URL: srv.URL, Retries: -1})
	if _, err := plain.FindStudies(context.Background(), Query{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("untrusted certificate: %v", err)
	}
	trusted, err := New(Config{URL: srv.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusted.FindStudies(context.Background(), Query{}); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}
	if _, err := New(Config{URL: srv.URL, CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}

// TestTimeout: a search the server never answers fails after the client's
// timeout, as unreachable.
func TestTimeout(t *testing.T) {
	c := newTestClient(t, hanging, Config{Timeout: 100 * time.Millisecond, Retries: -1})
	if _, err := c.FindStudies(context.Background(), Query{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("%v", err)
	}
}
