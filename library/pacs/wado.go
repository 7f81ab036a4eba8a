package pacs

import (
	"bufio"
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
)

// retrieveAccept asks for the instances as the server stores them
// (transfer-syntax=*): a server asked to transcode may fail (Orthanc
// answers 500 for a JPEG 2000 series it cannot transcode).
const retrieveAccept = `multipart/related; type="application/dicom"; transfer-syntax=*`

// MaxPart bounds one instance of a retrieve (a 4 GiB multi-frame file is
// already more than any reader here takes).
const MaxPart = 4 << 30

// Retrieve downloads the instances of a study (seriesUID "") or of one
// series into dir (created, readable by the user alone), one file per
// instance, streaming each part of the multipart answer to disk as it
// arrives. progress (may be nil) is called after each instance with the
// file just written and the instances and bytes received so far (so a
// caller can start on a file while the next ones arrive). It returns the
// files written; on an error the files written so far are returned with it
// (the caller decides whether to keep them).
func (c *Client) Retrieve(ctx context.Context, studyUID, seriesUID, dir string, progress func(file string, instances int, bytes int64)) ([]string, error) {
	path := "/studies/" + url.PathEscape(studyUID)
	if seriesUID != "" {
		path += "/series/" + url.PathEscape(seriesUID)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("retrieve: %w", err)
	}
	resp, err := c.get(ctx, path, nil, retrieveAccept, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	mr, err := multipartReader(resp)
	if err != nil {
		return nil, fmt.Errorf("retrieve %s: %w", redact(path), err)
	}
	var files []string
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return files, c.streamError(ctx, path, err)
		}
		name := filepath.Join(dir, fmt.Sprintf("%06d.dcm", len(files)+1))
		n, err := savePart(part, name)
		if err != nil {
			return files, c.streamError(ctx, path, err)
		}
		files, total = append(files, name), total+n
		if progress != nil {
			progress(name, len(files), total)
		}
	}
}

// streamError says why a multipart stream stopped.
func (c *Client) streamError(ctx context.Context, path string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrNotDICOM):
		return fmt.Errorf("retrieve %s: %w", redact(path), err)
	}
	return fmt.Errorf("retrieve %s: %w (%v)", redact(path), ErrTruncated, err)
}

// multipartReader checks that an answer is multipart/related and returns
// a reader of its parts.
func multipartReader(resp *http.Response) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil, fmt.Errorf("%w: content type %q, want multipart/related", ErrBadAnswer, resp.Header.Get("Content-Type"))
	}
	return multipart.NewReader(bufio.NewReaderSize(resp.Body, 1<<20), params["boundary"]), nil
}

// savePart writes one part to name (through a temporary file, so that a
// file of that name is always whole) after checking it is DICOM.
func savePart(part *multipart.Part, name string) (int64, error) {
	defer part.Close()
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
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(br, MaxPart+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > MaxPart {
		err = fmt.Errorf("instance larger than %d bytes", int64(MaxPart))
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

// Rendered returns a rendered JPEG preview
// of an instance, at most size pixels on its longer side, and its media
// type.
func (c *Client) Rendered(ctx context.Context, studyUID, seriesUID, instanceUID string, size int) ([]byte, string, error) {
	path := "/studies/" + url.PathEscape(studyUID) + "/series/" + url.PathEscape(seriesUID) +
		"/instances/" + url.PathEscape(instanceUID) + "/rendered"
	q := url.Values{}
	if size > 0 {
		q.Set("viewport", fmt.Sprintf("%d,%d", size, size))
	}
	resp, err := c.get(ctx, path, q, "image/jpeg", true) // one type: Orthanc answers 400 to a list
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
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
