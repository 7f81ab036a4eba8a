package pacs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// search runs a QIDO-RS search in pages of the client's PageSize (limit
// and offset, as QIDO-RS defines them) and converts each answer with
// conv, which says whether to keep it (an answer without a valid UID is
// dropped and counted). It takes q.Limit answers at most, and never more
// than MaxResults; each page's answer is decoded as it arrives and
// bounded by MaxAnswer bytes. Results left out come with a *PartialError.
func search[T any](ctx context.Context, c *Client, path string, v url.Values, q Query, conv func(dataset) (T, bool)) ([]T, error) {
	want, capped := q.Limit, false
	if want <= 0 || want > c.cfg.MaxResults {
		want, capped = c.cfg.MaxResults, true
	}
	out := []T{}
	partial := &PartialError{Search: redact(path)}
	keep := func(d dataset) {
		if t, ok := conv(d); ok {
			out = append(out, t)
		} else {
			partial.Invalid++
		}
	}
	for seen, off := 0, max(q.Offset, 0); seen < want; {
		n := min(c.cfg.PageSize, want-seen)
		probe := capped && seen+n >= want // the last page the client takes: are there more?
		pg, err := c.page(ctx, path, v, off, n, probe, keep)
		if err != nil {
			return nil, err
		}
		seen, off = seen+pg.got, off+pg.got
		if pg.ignoresLimit { // not paged further: its offsets cannot be trusted either
			partial.Cut = capped || seen < want
			break
		}
		if seen >= want {
			partial.Cut = pg.extra
			break
		}
		if !pg.full || pg.got == 0 {
			break
		}
	}
	if partial.Cut || partial.Invalid > 0 {
		partial.Kept = len(out)
		return out, partial
	}
	return out, nil
}

// errNotArray: a search answer that is JSON, but not an array.
var errNotArray = errors.New("not a JSON array")

// pageInfo says what one page held: got answers taken (at most the limit
// asked for), full when the page was (or the server says more follow),
// extra when the probe found one more, ignoresLimit when the server sent
// more than asked.
type pageInfo struct {
	got                       int
	full, extra, ignoresLimit bool
}

// page asks for n answers from offset off (and, probing, one more, to know
// whether others follow) and hands each of the first n to each.
func (c *Client) page(ctx context.Context, path string, v url.Values, off, n int, probe bool, each func(dataset)) (pageInfo, error) {
	ask := n
	if probe {
		ask++
	}
	pv := url.Values{}
	for k, vs := range v {
		pv[k] = vs
	}
	pv.Set("limit", strconv.Itoa(ask))
	if off > 0 {
		pv.Set("offset", strconv.Itoa(off))
	}
	resp, err := c.get(ctx, path, pv, "application/dicom+json", true)
	if err != nil {
		return pageInfo{}, err
	}
	defer resp.Body.Close()
	body := &capReader{r: resp.Body, left: c.cfg.MaxAnswer, what: fmt.Sprintf("a search answer over %d bytes", c.cfg.MaxAnswer)}
	received, ignores, err := decodePage(json.NewDecoder(body), ask, func(i int, d dataset) {
		if i < n {
			each(d)
		}
	})
	if err != nil {
		return pageInfo{}, answerError(ctx, path, err)
	}
	return pageInfo{got: min(received, n), full: received >= n || additional(resp.Header), extra: received > n,
		ignoresLimit: ignores}, nil
}

// decodePage reads a DICOM JSON array one dataset at a time, up to ask of
// them (ignores: more followed). An empty answer is no match.
func decodePage(dec *json.Decoder, ask int, each func(int, dataset)) (received int, ignores bool, err error) {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return 0, false, errNotArray
	}
	for dec.More() {
		if received == ask {
			return received, true, nil
		}
		var d dataset
		if err := dec.Decode(&d); err != nil {
			return received, false, err
		}
		each(received, d)
		received++
	}
	_, err = dec.Token() // the closing bracket
	return received, false, err
}

// additional reports a QIDO-RS warning that the server cut its answer
// itself ("299 …: There are additional results that can be requested").
func additional(h http.Header) bool {
	for _, w := range h.Values("Warning") {
		if strings.Contains(strings.ToLower(w), "additional results") {
			return true
		}
	}
	return false
}

// answerError classes a search answer that could not be read.
func answerError(ctx context.Context, path string, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrTooLarge) || errors.Is(err, ErrStalled):
		return fmt.Errorf("search %s: %w", redact(path), err)
	case errors.As(err, &syntax) || errors.As(err, &typ) || errors.Is(err, errNotArray):
		return fmt.Errorf("search %s: %w (%v)", redact(path), ErrBadAnswer, err)
	}
	return fmt.Errorf("search %s: %w (%v)", redact(path), ErrTruncated, err)
}

// dataset is one object of the DICOM JSON model (PS3.18 F.2).
type dataset map[string]struct {
	VR    string            `json:"vr"`
	Value []json.RawMessage `json:"Value"`
}

// strs returns the values of an attribute as strings (a person name as its
// alphabetic form).
func (d dataset) strs(tag string) []string {
	var out []string
	for _, raw := range d[tag].Value {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var pn struct{ Alphabetic string }
		if json.Unmarshal(raw, &pn) == nil && pn.Alphabetic != "" {
			out = append(out, pn.Alphabetic)
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			out = append(out, n.String())
		}
	}
	return out
}

func (d dataset) str(tag string) string {
	if s := d.strs(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (d dataset) int(tag string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(d.str(tag)))
	return n
}
