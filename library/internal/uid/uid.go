// Package uid validates DICOM unique identifiers where they enter the
// program (PACS answers, department-index objects, files): a UID is one to
// 64 characters of digits and dots, in components without leading zeros
// (PS3.5 9.1). Anything else is refused before it reaches a URL, a path, a
// log line or a message.
package uid

import (
	"errors"
	"fmt"
)

// MaxLen is the longest valid UID.
const MaxLen = 64

// ErrInvalid reports a value that is not a UID. Its message never quotes the
// value (it may be patient data or an attacker's text).
var ErrInvalid = errors.New("not a valid DICOM UID")

// Valid reports whether s is a syntactically valid UID.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
			continue
		}
		n := i - start // one component
		if n == 0 || (n > 1 && s[start] == '0') {
			return false
		}
		start = i + 1
	}
	return true
}

// Check returns nil for a valid UID, else an error naming what (e.g.
// "study UID") without quoting the value.
func Check(what, s string) error {
	if Valid(s) {
		return nil
	}
	return fmt.Errorf("%s: %w (%d characters)", what, ErrInvalid, len(s))
}
