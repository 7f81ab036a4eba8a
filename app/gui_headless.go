//go:build headless

package app

import (
	"errors"
	"io"
)

// cmdGUI in a headless build (go build -tags headless): no window, no
// OpenGL or X11 libraries linked; every subcommand works.
func cmdGUI(args []string, stderr io.Writer) int {
	return fail(stderr, errors.New("this build has no window (built with -tags headless); use a subcommand: m3ret help"))
}
