package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/m3ret/viewer/library"
)

// TestFailDamagedOneLine: whichever command meets a
// damaged catalog ends with one line that says so and to run m3ret
// repair; a catalog of another library is one line too.
func TestFailDamagedOneLine(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("list items: %w (assertion failed: page 5)", library.ErrDamaged),
		fmt.Errorf("%w (it is library 0123abcd, the folder is library 4567cdef)", library.ErrForeign),
	} {
		var b bytes.Buffer
		if code := Fail(&b, err); code != ExitError {
			t.Fatalf("exit %d", code)
		}
		out := b.String()
		if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "m3ret: ") {
			t.Fatalf("not one line: %q", out)
		}
		if errors.Is(err, library.ErrDamaged) && (!strings.Contains(out, "damaged") || !strings.Contains(out, "run m3ret repair")) {
			t.Fatalf("damaged, without the repair: %q", out)
		}
	}
}
