package pacs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/m3ret/viewer/library/internal/uid"
)

// retrieveAccept asks for the instances as the server stores them
// (transfer-syntax=*): a server asked to transcode may fail (Orthanc
// answers 500 for a JPEG 2000 series it cannot transcode).
const retrieveAccept = `multipart/related; type="application/dicom"; transfer-syntax=*`

// MaxPart bounds one instance of a retrieve by default (a 4 GiB
// multi-frame file is already more than any reader here takes).
const MaxPart = 4 << 30

// betweenParts bounds the bytes of a retrieve outside its instances (a
// preamble, part headers, what the buffer reads ahead).
const betweenParts = 4 << 20

// Retrieve downloads the instances of a study (seriesUID "") or of one
// series into dir (created, readable by the user alone), one file per
// instance, streaming each part of the multipart answer to disk as it
// arrives. progress (may be nil) is called after each instance with the
// file just written and the instances and bytes received so far (so a
// caller can start on a file while the next ones arrive). It returns the
// files written; on an error the files written so far are returned with it
// (the caller decides whether to keep them).
//
// Only instances of the study and series asked for are kept: another one
// ends the retrieve with ErrWrongInstance. An instance past MaxPart, more
// than MaxInstances, an answer that stalls for the idle timeout or ends
// without its closing boundary end it too, at once (the connection is
// closed, nothing more is read).
func (c *Client) Retrieve(ctx context.Context, studyUID, seriesUID, dir string, progress func(file string, instances int, bytes int64)) ([]string, error) {
	path, err := resource(studyUID, seriesUID)
	if err != nil {
		return nil, fmt.Errorf("retrieve: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("retrieve: %w", err)
	}
	resp, err := c.get(ctx, path, nil, retrieveAccept, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rt := &retrieval{c: c, dir: dir, study: studyUID, series: seriesUID, end: &tailReader{r: resp.Body}, progress: progress}
	rt.body = &capReader{r: rt.end, what: "data between instances"}
	rt.mr, rt.boundary, err = multipartReader(resp, rt.body)
	if err != nil {
		return nil, fmt.Errorf("retrieve %s: %w", redact(path), err)
	}
	if err := rt.run(); err != nil {
		resp.Body.Close() // before anything drains the rest of the answer
		return rt.files, c.streamError(ctx, path, err)
	}
	return rt.files, nil
}

// retrieval is one retrieve's stream of parts.
type retrieval struct {
	c             *Client
	dir           string
	study, series string
	body          *capReader // the answer, bounded part by part
	end           *tailReader
	mr            *multipart.Reader
	boundary      string
	progress      func(file string, instances int, bytes int64)
	files         []string
	total         int64
}

// run saves the parts until the closing boundary.
func (rt *retrieval) run() error {
	for {
		rt.body.left = betweenParts
		part, err := rt.mr.NextPart()
		if errors.Is(err, io.EOF) {
			return rt.closed()
		}
		if err != nil {
			return err
		}
		if len(rt.files) >= rt.c.cfg.MaxInstances {
			return fmt.Errorf("%w (more than %d instances)", ErrTooLarge, rt.c.cfg.MaxInstances)
		}
		rt.body.left = rt.c.cfg.MaxPart + betweenParts
		name := filepath.Join(rt.dir, fmt.Sprintf("%06d.dcm", len(rt.files)+1))
		n, err := rt.save(part, name)
		if err != nil {
			return err
		}
		rt.files, rt.total = append(rt.files, name), rt.total+n
		if rt.progress != nil {
			rt.progress(name, len(rt.files), rt.total)
		}
	}
}

// closed checks that an answer the multipart reader saw end was closed by
// its final boundary: the reader also ends, quietly, on an answer that
// stops after a delimiter opening another part. An answer read to its end
// must then end with the final boundary (a short epilogue aside).
func (rt *retrieval) closed() error {
	if rt.end.eof && !bytes.Contains(rt.end.tail, []byte("--"+rt.boundary+"--")) {
		return errors.New("the answer ended without its closing boundary")
	}
	return nil
}

// tailReader keeps the last bytes read through it, and whether it met the
// end.
type tailReader struct {
	r    io.Reader
	tail []byte
	eof  bool
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	const keep = 4 << 10
	b := p[:n]
	if len(b) >= keep {
		t.tail = append(t.tail[:0], b[len(b)-keep:]...)
	} else if t.tail = append(t.tail, b...); len(t.tail) > keep {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-keep:]...)
	}
	t.eof = t.eof || errors.Is(err, io.EOF)
	return n, err
}

// streamError says why a multipart stream stopped.
func (c *Client) streamError(ctx context.Context, path string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrNotDICOM) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrStalled) || errors.Is(err, ErrWrongInstance):
		return fmt.Errorf("retrieve %s: %w", redact(path), err)
	}
	return fmt.Errorf("retrieve %s: %w (%v)", redact(path), ErrTruncated, err)
}

// multipartReader checks that an answer is multipart/related and returns
// a reader of its parts from body, and its boundary.
func multipartReader(resp *http.Response, body io.Reader) (*multipart.Reader, string, error) {
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil, "", fmt.Errorf("%w: content type %q, want multipart/related", ErrBadAnswer, resp.Header.Get("Content-Type"))
	}
	return multipart.NewReader(bufio.NewReaderSize(body, 1<<20), params["boundary"]), params["boundary"], nil
}

// save writes one part to name (through a temporary file, so that a
// file of that name is always whole) after checking it is DICOM, and
// keeps it only if it is an instance of the study and series asked for.
// The part is not closed: on an error the caller drops the connection
// rather than read the rest of the part.
func (rt *retrieval) save(part *multipart.Part, name string) (int64, error) {
	if ct := part.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/dicom" {
			return 0, fmt.Errorf("%w (content type %q)", ErrNotDICOM, mt)
		}
	}
	br := bufio.NewReaderSize(part, 64<<10)
	head, err := br.Peek(132)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if len(head) < 132 || string(head[128:132]) != "DICM" {
		return 0, fmt.Errorf("%w (no DICM preamble)", ErrNotDICOM)
	}
	tmp := name + ".part"
	n, err := rt.write(br, tmp)
	if err == nil {
		err = rt.check(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return n, nil
}

// write copies one instance to file, failing past MaxPart bytes.
func (rt *retrieval) write(r io.Reader, file string) (int64, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	max := rt.c.cfg.MaxPart
	n, err := io.Copy(f, &capReader{r: r, left: max, what: fmt.Sprintf("an instance over %d bytes", max)})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// check refuses an instance of another study or series than asked for.
func (rt *retrieval) check(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	study, series, err := instanceUIDs(f)
	switch {
	case err != nil:
		return fmt.Errorf("%w (its Study and Series UIDs could not be read: %v)", ErrWrongInstance, err)
	case study == "" || series == "":
		return fmt.Errorf("%w (it has no Study or Series Instance UID)", ErrWrongInstance)
	case study != rt.study:
		return fmt.Errorf("%w (an instance of another study; refused)", ErrWrongInstance)
	case rt.series != "" && series != rt.series:
		return fmt.Errorf("%w (an instance of another series; refused)", ErrWrongInstance)
	}
	return nil
}

// Rendered returns a rendered JPEG preview
// of an instance, at most size pixels on its longer side, and its media
// type.
func (c *Client) Rendered(ctx context.Context, studyUID, seriesUID, instanceUID string, size int) ([]byte, string, error) {
	path, err := resource(studyUID, seriesUID, instanceUID)
	if err != nil || seriesUID == "" || instanceUID == "" {
		return nil, "", fmt.Errorf("rendered: %w", errors.Join(err, uid.Check("series UID", seriesUID), uid.Check("instance UID", instanceUID)))
	}
	path += "/rendered"
	q := url.Values{}
	if size > 0 {
		q.Set("viewport", fmt.Sprintf("%d,%d", size, size))
	}
	resp, err := c.get(ctx, path, q, "image/jpeg", true) // one type: Orthanc answers 400 to a list
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(&capReader{r: resp.Body, left: 32 << 20, what: "a preview over 32 MiB"})
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrStalled) {
		return nil, "", fmt.Errorf("rendered: %w", err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("rendered: %w", ErrTruncated)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return b, mt, nil
}

// Store uploads DICOM files with STOW-RS (one request, streamed).
func (c *Client) Store(ctx context.Context, files []string) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { pw.CloseWithError(writeParts(mw, files)) }()
	ctype := fmt.Sprintf(`multipart/related; type="application/dicom"; boundary=%s`, mw.Boundary())
	resp, err := c.try(ctx, http.MethodPost, "/studies", nil, "application/dicom+json", pr, ctype, false)
	pr.Close()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	resp.Body.Close()
	return nil
}

func writeParts(mw *multipart.Writer, files []string) error {
	for _, name := range files {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
		if err != nil {
			return err
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return mw.Close()
}
