// Command m3ret is M3Ret Viewer: with no subcommand it opens the window;
// import, query and info run headless on the same code paths.
package main

import (
	"os"

	"github.com/m3ret/viewer/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:]))
}
