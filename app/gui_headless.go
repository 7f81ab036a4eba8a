//go:build headless

package app

import (
	"errors"
	"io"

	"github.com/m3ret/viewer/app/cli"
)

// cmdGUI in a headless build (go build -tags headless): no window, no
// OpenGL or X11 libraries linked; every subcommand works.
func cmdGUI(args []string, stderr io.Writer) int {
	return cli.Fail(stderr, errors.New("this build has no window (built with -tags headless); use a subcommand: m3ret help"))
}
