package pacstest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// search answers QIDO-RS; parts is the path under the root, split.
func (h *Hostile) search(w http.ResponseWriter, r *http.Request, parts []string) {
	w.Header().Set("Content-Type", "application/dicom+json")
	out := counter{w, &h.sent}
	switch h.Mode {
	case GzipSearch:
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(out)
		io.WriteString(gz, "[")
		gz.Flush()
		out.flush() // the headers go now, not once the compressed output fills a buffer
		repeat(r, gz, bytes.Repeat([]byte{' '}, 64<<10), safetyBytes)
		gz.Close()
	case HugeSearch:
		h.huge(out)
	case DeepSearch:
		repeat(r, out, bytes.Repeat([]byte{'['}, 64<<10), 16<<20)
	case BadUIDs:
		fmt.Fprintf(out, "[{%s},{%s},{%s},{%s}]", Attr("0020000E", "UI", h.Series), Attr("0020000E", "UI", "../../etc/passwd"),
			Attr("0020000E", "UI", "1.02.3"), Attr("0020000E", "UI", strings.Repeat("1.", 40)+"1"))
	default:
		h.honestSearch(out, r, parts)
	}
}

// honestSearch answers a search with the server's study, series or one
// instance (Results of them in ManyResults, paged by limit and offset).
func (h *Hostile) honestSearch(out io.Writer, r *http.Request, parts []string) {
	n := 1
	if h.Mode == ManyResults {
		n = h.Results
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	end := n
	if limit, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && limit > 0 {
		end = min(n, offset+limit)
	}
	io.WriteString(out, "[")
	for i := offset; i < end; i++ {
		if i > offset {
			io.WriteString(out, ",")
		}
		switch len(parts) {
		case 1:
			fmt.Fprintf(out, "{%s}", Attr("0020000D", "UI", nth(h.Study, i)))
		case 3:
			fmt.Fprintf(out, "{%s,%s,%s}", Attr("0020000D", "UI", parts[1]), Attr("0020000E", "UI", nth(h.Series, i)),
				`"00201209":{"vr":"IS","Value":[`+strconv.Itoa(h.Instances)+`]}`)
		default:
			fmt.Fprintf(out, "{%s}", Attr("00080018", "UI", nth(h.Series+".1", i)))
		}
	}
	io.WriteString(out, "]")
}

// nth is the i-th UID of a list starting at uid.
func nth(uid string, i int) string {
	if i == 0 {
		return uid
	}
	return uid + "." + strconv.Itoa(i)
}

// huge writes 200,000 series of about 1,200 bytes each, from one buffer.
func (h *Hostile) huge(out io.Writer) {
	desc := strings.Repeat("x", 1100)
	buf := []byte("[")
	for i := range 200000 {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = fmt.Appendf(buf, `{"0020000E":{"vr":"UI","Value":["%s.%d"]},"0008103E":{"vr":"LO","Value":["%s"]}}`, h.Series, i+1, desc)
		if len(buf) > 60<<10 {
			if _, err := out.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	out.Write(append(buf, ']'))
}

// repeat writes chunk until limit bytes are written, a write fails or the
// client hangs up.
func repeat(r *http.Request, w io.Writer, chunk []byte, limit int64) {
	for n := int64(0); n < limit && r.Context().Err() == nil; n += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// retrieve answers WADO-RS.
func (h *Hostile) retrieve(w http.ResponseWriter, r *http.Request) {
	out := counter{w, &h.sent}
	mw := multipart.NewWriter(out)
	w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+mw.Boundary())
	one := Instance(h.Study, h.Series, h.Series+".1")
	switch h.Mode {
	case EndlessPart, Stall, Trickle:
		h.endless(r, out, mw, one)
	case EndlessParts:
		for i := 0; int64(i)*int64(len(one)) < safetyBytes && part(mw, one) == nil; i++ {
		}
	case GzipRetrieve:
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(out)
		gmw := multipart.NewWriter(gz)
		gmw.SetBoundary(mw.Boundary())
		pw, _ := gmw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
		pw.Write(one)
		gz.Flush()
		out.flush()
		repeat(r, pw, make([]byte, 64<<10), safetyBytes)
		gz.Close()
	case WrongStudy:
		if h.send(mw) == nil {
			part(mw, Instance("1.2.826.0.1.8888.1", "1.2.826.0.1.8888.1.1", "1.2.826.0.1.8888.1.1.1"))
		}
		mw.Close()
	default:
		h.parts(r, out, mw)
	}
}

// parts sends the server's instances, ending as the mode says.
func (h *Hostile) parts(r *http.Request, out counter, mw *multipart.Writer) {
	h.send(mw)
	switch h.Mode {
	case NoClosingBoundary:
	case OpenBoundary:
		fmt.Fprintf(out, "\r\n--%s\r\n", mw.Boundary())
	case HangAfterParts:
		out.flush()
		<-r.Context().Done()
	default:
		mw.Close()
	}
}

// endless sends the head of a part, then (EndlessPart) zeros as fast as
// the client takes them, (Stall) nothing, or (Trickle) a byte every 20 ms.
func (h *Hostile) endless(r *http.Request, out counter, mw *multipart.Writer, head []byte) {
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
	pw.Write(head)
	switch h.Mode {
	case EndlessPart:
		repeat(r, pw, make([]byte, 64<<10), safetyBytes)
	case Stall:
		out.flush()
		<-r.Context().Done()
	case Trickle:
		for r.Context().Err() == nil {
			if _, err := pw.Write([]byte{0}); err != nil {
				return
			}
			out.flush()
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// send sends the server's instances: Files, or synthetic ones.
func (h *Hostile) send(mw *multipart.Writer) error {
	for i := range h.Instances {
		b := Instance(h.Study, h.Series, nth(h.Series+".1", i))
		if h.Files != nil {
			var err error
			if b, err = os.ReadFile(h.Files[i]); err != nil {
				return err
			}
		}
		if err := part(mw, b); err != nil {
			return err
		}
	}
	return nil
}

func part(mw *multipart.Writer, b []byte) error {
	pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
	if err == nil {
		_, err = pw.Write(b)
	}
	return err
}
