package dicom

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/m3ret/viewer/library/internal/uid"
)

// This file keeps what a file holds out of error messages: a crafted or
// corrupt file can put patient data where the reader expects a transfer
// syntax, a tag or a length, and the parser quotes what it read. Messages
// name tags (of the data dictionary), lengths and counts, and quote only
// values that are valid UIDs.

// redacted is an error whose message leaves out the values it quoted;
// errors.Is still sees the error underneath.
type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }

// redact hides the file's values in a parser error (see redactValues).
func redact(err error) error { return redacted{redactValues(err.Error()), err} }

// panicErr is ErrCorrupt for a panic of the parser, its message redacted.
func panicErr(p any) error { return fmt.Errorf("%w: %s", ErrCorrupt, redactValues(fmt.Sprint(p))) }

var (
	quotedValue = regexp.MustCompile(`'[^']*'|"[^"]*"|\[[^\]]*\]`)
	tagPattern  = regexp.MustCompile(`\([0-9A-Fa-f]{4},\s*[0-9A-Fa-f]{4}\)`)
	hexNumber   = regexp.MustCompile(`0[xX][0-9A-Fa-f]+`)
)

// redactValues rewrites a message of the parser (or of a panic in it) so
// that it quotes nothing from the file: quoted and bracketed values become
// "…", tags outside the data dictionary and hex numbers (both may be a
// value's bytes read as a tag) "(…)" and "0x…", and every word the
// parser's own messages do not use, and every byte outside printable
// ASCII, "…". What is left is the parser's wording, tags, decimal numbers
// and punctuation.
func redactValues(s string) string {
	s = quotedValue.ReplaceAllString(s, "…")
	s = hexNumber.ReplaceAllString(s, "0x…")
	var b strings.Builder
	at := 0
	for _, loc := range tagPattern.FindAllStringIndex(s, -1) {
		redactWords(&b, s[at:loc[0]])
		b.WriteString(tagInMessage(s[loc[0]:loc[1]]))
		at = loc[1]
	}
	redactWords(&b, s[at:])
	return b.String()
}

// redactWords writes s keeping numbers, the parser's words (with digits
// around them, as in uint16), printable ASCII other than letters and
// digits, and "…" for anything else: a word with the digits it carries
// (an ID's), a byte outside printable ASCII.
func redactWords(b *strings.Builder, s string) {
	for len(s) > 0 {
		n := tokenLen(s)
		switch {
		case n > 0 && keepToken(s[:n]):
			b.WriteString(s[:n])
		case n > 0:
			redactOnce(b)
		case strings.HasPrefix(s, "…"):
			n = len("…")
			redactOnce(b)
		case s[0] == '\n' || s[0] == '\t' || (s[0] >= ' ' && s[0] < 0x7f):
			n = 1
			b.WriteByte(s[0])
		default:
			n = 1
			redactOnce(b)
		}
		s = s[n:]
	}
}

// tokenLen is the length of the run of ASCII letters, digits and
// underscores s starts with.
func tokenLen(s string) int {
	n := 0
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= '0' && s[n] <= '9' || s[n] == '_') {
		n++
	}
	return n
}

// keepToken keeps a number, and a word of the parser's with digits only
// before or after it (0x, uint16).
func keepToken(tok string) bool {
	word := strings.TrimRight(strings.TrimLeft(tok, "0123456789"), "0123456789")
	return word == "" || parserWords[strings.ToLower(word)]
}

// redactOnce writes "…" unless the message already ends with one.
func redactOnce(b *strings.Builder) {
	if !strings.HasSuffix(b.String(), "…") {
		b.WriteString("…")
	}
}

// errLength refuses the length element t (an item, a fragment) declares:
// more bytes than the file has left. The length is printed as the number
// it is, never as the bytes it was read from.
func errLength(t tag.Tag, n int64) error {
	return fmt.Errorf("%s declares a length of %d bytes, more than the file holds: %w", element(t), n, ErrCorrupt)
}

// element names element t in a message: "element (gggg,eeee)" (see
// tagText), or "an item" for an item of a sequence or of pixel data.
func element(t tag.Tag) string {
	if t == itemTag {
		return "an item"
	}
	return "element " + tagText(t)
}

// tagInMessage keeps a tag the parser printed when it is a dictionary tag.
func tagInMessage(s string) string {
	var t tag.Tag
	if _, err := fmt.Sscanf(strings.ReplaceAll(s, " ", ""), "(%4x,%4x)", &t.Group, &t.Element); err != nil {
		return "(…)"
	}
	return tagText(t)
}

// tagText names a tag as (gggg,eeee) when it is in the data dictionary.
// Other tags are not printed: where a file is corrupt, the "tag" may be
// four bytes of a value (a name's "PHIL" reads as (4850,4c49)).
func tagText(t tag.Tag) string {
	if info, err := tag.Find(t); err == nil && info.Keyword != "GenericGroupLength" {
		return t.String()
	}
	return "(private or unknown tag)"
}

// syntaxText names a transfer syntax read from a file: the UID when it is
// a valid one, else only its length (it may be anything, patient data
// included).
func syntaxText(s string) string {
	if uid.Valid(s) {
		return s
	}
	return fmt.Sprintf("(not a valid UID, %d characters)", len(s))
}

// parserWords are the words of the messages the DICOM parser
// (github.com/suyashkumar/dicom v1.1.0: its errors, panics and the
// Sprintf calls inside them), the Go runtime, strconv, io, compress/flate,
// the video package and ffmpeg's usual complaints put in the errors
// redactValues sees; any other word came from the file (or is dropped to
// be safe).
var parserWords = wordSet(`
a actual address allowed alphabetic already amount an and are array assert assignment assuming atoi
bad basic be been before big bitsallocated bitspersample bits bounds bufio buffer but by byte bytes
calculated caller can canceled cannot canonicaltransfersyntaxuid cap cast character check cols columns
commonframe complete contains context conversion converting coordinate corrupt correct could count
creating current da data dataset date datetime deadline defined defines deflated delimitation
dereference details dicm dicom dicomio dictionary dimension divide does dt due during
elem element elements encapsulated encoding endian enough entry eof err error even exceeded exceeds
exists expected explicit failed fffe ffffff ffffffffh field find finding first flate float floating
floats for format formatting found frame framesize frameslength from fully functionality getimage got
grayscale greater group groups had has have header here hhmmss ideographic images implemented
implicit in index indexed indicates infer input int integer interface internal internalsamplesperpixel
ints invalid is it item last left len length limit little location magic makeerrorpixeldata
makeslice making map match matches maximum may memory meta metadata metaelementgrouplength method
middle mismatch mismatched missing more multiple must mustgetbytes mustgetfloats mustgetints
mustgetpixeldatainfo mustgetstrings na name native needed negative new newvalue next nil no non not
now number numberofframes of offset on one only operation option or order out output overflow
overridemissingtransfersyntax ow padding panic parse parsed parseerr parsefloat parseint parsing part
per phonetic pixel pixeldata pn pngroup point pointer possible preamble prefix present private
proper provided range raw rawdataslice rawvaluerepresentation read readelement reading readint
readnativeframe readnativeframes readpixeldata readrawitem readsequence readsequenceitem readuint
representation requested required requires retrieve rows runtime samples samplesperpixel segments
sequence set shift short shorter since size skipped skipping skippixeldata slice so spec specified
standard strconv string strings sub subitem successfully suffix support supported syntax tag than
that the this time tm to trailingnulllevel transfer transfersyntaxuid type uc uid uint unable
undefined unexpected unexpectedly unknown unsigned unsupported until ur using ut utf value
valuelength valuetype violation vl vr vrkind was we when where which with word x yet zero
atom corrupt decoded decoding dimensions exit ffmpeg ffprobe large moov processing sampled signal
status stream such too truncated video while killed
`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
