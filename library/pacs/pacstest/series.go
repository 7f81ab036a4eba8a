package pacstest

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/m3ret/viewer/library/samples"
)

// MakeSeries writes an n-slice series made from one real slice with
// dcmtk's dcmodify (a new Series UID; per slice a new SOP Instance UID,
// Instance Number and Image Position, 5 mm apart) into dir, and returns
// the files and the Series UID. Only the UIDs and positions are synthetic.
func MakeSeries(t testing.TB, template string, n int, dir string) ([]string, string) {
	t.Helper()
	samples.Tool(t, "dcmodify")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	series := fmt.Sprintf("2.25.%d", time.Now().UnixNano())
	files := make([]string, n)
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i := range n {
		files[i] = filepath.Join(dir, fmt.Sprintf("IM%05d.dcm", i+1))
		g.Go(func() error { return makeSlice(template, files[i], series, i+1) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return files, series
}

func makeSlice(template, out, series string, i int) error {
	if err := copyFile(template, out); err != nil {
		return err
	}
	cmd := exec.Command("dcmodify", "-nb", "-q", "-i", "(0020,000E)="+series, "-i", fmt.Sprintf("(0008,0018)=%s.%d", series, i),
		"-i", fmt.Sprintf("(0020,0013)=%d", i), "-i", fmt.Sprintf("(0020,0032)=-120\\-120\\%d", 5*i), out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dcmodify: %v: %s", err, msg)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Multipart returns files as a WADO-RS answer would carry them: a
// multipart/related body of application/dicom parts, and its content type.
func Multipart(t testing.TB, files []string) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	mw.Close()
	return body.Bytes(), `multipart/related; type="application/dicom"; boundary=` + mw.Boundary()
}

// SetStudy moves files into another study: a new Study Instance UID and
// Study Date (YYYYMMDD), with dcmtk's dcmodify.
func SetStudy(t testing.TB, files []string, studyUID, date string) {
	t.Helper()
	args := append([]string{"-nb", "-q", "-i", "(0020,000D)=" + studyUID, "-i", "(0008,0020)=" + date}, files...)
	if msg, err := exec.Command("dcmodify", args...).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v: %s", err, msg)
	}
}
