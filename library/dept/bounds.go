package dept

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/m3ret/viewer/library/internal/uid"
)

// Anyone holding the index key can write any object, so what is read back
// is data to check, not to trust: the strings an object holds are bounded
// when written (maxLen per property, control characters dropped), a search
// reads at most what a page of such objects takes (see pageLimit), and an
// object whose item id or UIDs are not what M3Ret writes is dropped (and
// counted) when read, so that it reaches no URL, path or PACS request.

// ErrBadObject reports an object that is not what M3Ret writes (an item id
// or a DICOM UID of the wrong form); its message never quotes the value.
var ErrBadObject = errors.New("department index object is malformed")

// ErrTooLarge reports an answer larger than any page of legitimate objects.
var ErrTooLarge = errors.New("department index answer larger than any legitimate page")

// maxItemID bounds an item id: a letter and 16 hex digits today ("d…",
// "f…"), with room for other schemes.
const maxItemID = 64

// validItemID reports whether s has the form of an item id: 1 to
// maxItemID letters, digits, '-', '_' or '.'.
func validItemID(s string) bool {
	if len(s) == 0 || len(s) > maxItemID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// check reports what makes r an object M3Ret would not write: an item id
// of another form, or a study or series UID that is not a DICOM UID. (One
// without UIDs, as the benchmark writes, is fetched from no PACS: library
// checks them again before any request.)
func (r Record) check() error {
	if !validItemID(r.ItemID) {
		return fmt.Errorf("%w: item id (%d characters)", ErrBadObject, len(r.ItemID))
	}
	for _, u := range []struct{ what, v string }{{"study UID", r.StudyUID}, {"series UID", r.SeriesUID}} {
		if u.v != "" && !uid.Valid(u.v) {
			return fmt.Errorf("%w: %w", ErrBadObject, uid.Check(u.what, u.v))
		}
	}
	return nil
}

// bounded returns r with every free-text property cleaned (see clean) and
// cut to its bound.
func (r Record) bounded() Record {
	for _, p := range properties {
		if f := r.text(p.name); f != nil {
			*f = clean(*f, p.max)
		}
	}
	return r
}

// text points to r's field of a free-text property (nil for the others:
// numbers, the date, the item id and the UIDs, which are checked instead).
func (r *Record) text(prop string) *string {
	switch prop {
	case "model":
		return &r.Model
	case "kind":
		return &r.Kind
	case "modality":
		return &r.Modality
	case "bodyPart":
		return &r.BodyPart
	case "description":
		return &r.Description
	case "format":
		return &r.Format
	case "server":
		return &r.Server
	case "serverUrl":
		return &r.ServerURL
	case "workstation":
		return &r.Workstation
	}
	return nil
}

// clean makes s one line of printable text of at most max bytes: invalid
// UTF-8 becomes U+FFFD, tabs and line breaks become spaces, other control
// and bidirectional-override characters are dropped, and the end is cut at
// a character boundary.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
