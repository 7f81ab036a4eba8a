package dicom

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// marker is what the crafted files plant where the reader expects a UID,
// a tag or a length: a name and an ID run together, as patient data would
// be.
const marker = "PHILOGPID9"

// leak returns what of the marker a message shows: any four of its
// characters in a row, or its first four bytes read as a tag; "" if none.
func leak(msg string) string {
	for i := 0; i+4 <= len(marker); i++ {
		if strings.Contains(msg, marker[i:i+4]) {
			return marker[i : i+4]
		}
	}
	if strings.Contains(msg, "4850,4c49") { // "PHIL" as a little endian tag
		return "4850,4c49"
	}
	return ""
}

// phiFiles are files that put the marker where a value is read as
// something else, and the message each must give instead.
func phiFiles() []struct {
	name, want string
	is         error
	data       []byte
} {
	px := testElem{t: tag.PixelData, vr: "OW", val: make([]byte, 8)}
	img := append(imageElems(2, 2, 1, 1, 16, 16, 0, "MONOCHROME2"), px)
	withName := append(append([]testElem{}, img...), strElem(tag.PatientName, "PN", marker))
	named := part10(syntaxExplicit, withName, metaOpts{})
	asSequence := bytes.Replace(named, []byte("\x10\x00\x10\x00PN"), []byte("\x10\x00\x10\x00SQ"), 1)
	inSequence := part10(syntaxExplicit, append(img, testElem{t: tag.ReferencedImageSequence, vr: "SQ", val: []byte(marker + "PH")}), metaOpts{})
	implicit := part10(syntaxImplicit, nil, metaOpts{})
	nameLength := append(append([]byte{}, implicit...), "\x10\x00\x10\x00"+marker...)                     // (0010,0010), its length "PHIL"
	tagAndLength := append(append([]byte{}, implicit...), "\x08\x00\x60\x00\x02\x00\x00\x00OT"+marker...) // after Modality, "PHIL" as a tag, "OGPI" its length
	return []struct {
		name, want string
		is         error
		data       []byte
	}{
		{"transfer syntax that is no UID", "unsupported transfer syntax (not a valid UID, 10 characters)", ErrUnsupportedSyntax,
			part10(marker, img, metaOpts{})},
		{"transfer syntax with a UID's prefix", "unsupported transfer syntax (not a valid UID, 18 characters)", ErrUnsupportedSyntax,
			part10("1.2.840."+marker, img, metaOpts{})},
		{"patient name read as a sequence", "element (0010,0010) declares a length of 1279871056 bytes, more than the file holds", ErrCorrupt,
			asSequence},
		{"patient name's bytes as a length (implicit VR)", "element (0010,0010) declares a length of 1279871056 bytes, more than the file holds", ErrCorrupt,
			nameLength},
		{"value bytes as a tag and a length", "element (private or unknown tag) declares a length of 1229997903 bytes", ErrCorrupt,
			tagAndLength},
		{"value bytes as a tag in a sequence", "in sequence (0008,1140): element (private or unknown tag) where an item should be", ErrCorrupt,
			inSequence},
	}
}

// TestErrorsNeverQuoteFileValues: where a crafted file
// puts patient data in place of a transfer syntax, a length or a tag, the
// error names what is wrong (a UID's length, a length as the number it
// is, a tag only when it is in the dictionary) and never shows the data:
// not as text ("unsupported transfer syntax 1.2.840.PHILOGPID9"), not as a
// tag ("(4850,4c49) inside a sequence"). Every reader is tried: the image,
// the header alone, a DICOMDIR.
func TestErrorsNeverQuoteFileValues(t *testing.T) {
	ctx := context.Background()
	readers := map[string]func([]byte) error{
		"Read":       func(b []byte) error { _, err := Read(bytes.NewReader(b), int64(len(b))); return err },
		"ReadHeader": func(b []byte) error { _, err := ReadHeader(bytes.NewReader(b), int64(len(b))); return err },
		"ReadFileIDs": func(b []byte) error {
			_, err := ReadFileIDs(ctx, bytes.NewReader(b), int64(len(b)))
			return err
		},
	}
	for _, tc := range phiFiles() {
		for name, read := range readers {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				err := read(tc.data)
				if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want %q (%v)", err, tc.want, tc.is)
				}
				if l := leak(err.Error()); l != "" {
					t.Fatalf("%q shows %q of the file", err, l)
				}
			})
		}
	}
}

// TestRedactValues: what the parser says (or a panic
// in it) keeps its wording, dictionary tags and numbers; quoted values,
// bracketed values even with a bracket inside, words that are no word of
// the parser's, tags outside the dictionary, hex numbers and non-ASCII
// bytes go.
func TestRedactValues(t *testing.T) {
	tests := []struct{ in, want string }{
		{"readElement: error when reading value for element (0010,0010): error reading floating point element ((0010,0010)) value: unexpected EOF",
			"readElement: error when reading value for element (0010,0010): error reading floating point element ((0010,0010)) value: unexpected EOF"},
		{"readElement: error when reading VL for element (7fe0,0010): EOF", "readElement: error when reading VL for element (7fe0,0010): EOF"},
		{`strconv.Atoi: parsing "PHILOGPID9": invalid syntax`, "strconv.Atoi: parsing …: invalid syntax"},
		{"readSequence: error, non item element found in sequence. got: [\n  Tag: (0010,0010)\n  VR Raw: PN\n  Value: [PHIL]OGPID9]\n]",
			"readSequence: error, non item element found in sequence. got: …]\n]"},
		{"invalid or unknown transfer syntax: 1.2.840.PHILOGPID9,  big", "invalid or unknown transfer syntax: 1.2.840.…,  big"},
		{"could not find tag (0x4850, 0x4c49) in dictionary", "could not find tag (0x…, 0x…) in dictionary"},
		{"error reading string element ((4850,4c49)) value: unexpected EOF", "error reading string element ((private or unknown tag)) value: unexpected EOF"},
		{"readRawItem: expected VR=NA, got VR=PH", "readRawItem: expected VR=NA, got VR=…"},
		{"runtime error: index out of range [1279871056] with length 3", "runtime error: index out of range … with length 3"},
		{"Sch\xe4del PHILOGPID9 M\u00fcller AB12345678", "… … … …"},
		{"ffmpeg: exit status 1: [h264 @ 0x55d0] PHILOGPID9: Invalid data found when processing input",
			"ffmpeg: exit status 1: … …: Invalid data found when processing input"},
		{"unexpected EOF reading uint16 of 1279871056 bytes", "unexpected EOF reading uint16 of 1279871056 bytes"},
	}
	for _, tc := range tests {
		got := redactValues(tc.in)
		if l := leak(got); l != "" {
			t.Errorf("%q redacted to %q: shows %q", tc.in, got, l)
		}
		if got != tc.want {
			t.Errorf("%q redacted to %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSyntaxText: a transfer syntax is quoted when it is a valid UID, else
// only its length is told.
func TestSyntaxText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.840.10008.1.2.4.99", "1.2.840.10008.1.2.4.99"},
		{"1.2.840." + marker, "(not a valid UID, 18 characters)"},
		{"1.2.840.10008.1.2.1\x00", "(not a valid UID, 20 characters)"},
		{strings.Repeat("1", 65), "(not a valid UID, 65 characters)"},
	}
	for _, tc := range tests {
		if got := syntaxText(tc.in); got != tc.want {
			t.Errorf("syntaxText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
