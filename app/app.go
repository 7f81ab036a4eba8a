// Package app is M3Ret Viewer's front: the Fyne window (views over the
// controller of app/controller) and the product's subcommands (import,
// query, info, reindex), all declared in one table of commands; the
// developer tools (bench, eval, dataset) live in app/devtools and join the
// same table. The domain is reached through the library facade only.
package app

import (
	"fmt"
	"io"
	"os"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/devtools"
	_ "github.com/m3ret/viewer/app/quietlocale" // before Fyne reads the locale
)

// Version is the application version; release builds set it with
// -ldflags "-X github.com/m3ret/viewer/app.Version=...".
var Version = "0.1.0-dev"

// Main runs the program with os.Args[1:] and returns the exit code.
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	table := commands()
	if cmd, rest := cli.Find(table, args); cmd != nil {
		return cmd.Exec(rest, stdout, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "version", "--version":
			fmt.Fprintln(stdout, Version)
			return cli.ExitOK
		case "help", "-h", "--help":
			usage(stdout, table)
			return cli.ExitOK
		}
	}
	return cmdGUI(args, stderr)
}

// commands is the table of subcommands: the product's, then the
// developer tools'.
func commands() []cli.Command {
	table := append([]cli.Command{importCommand(), queryCommand(), infoCommand(), reindexCommand(), repairCommand(), syncCommand(), shareCommand(), indexKeyCommand(),
		noteCommand(), labelCommand(), exportCommand()},
		pacsCommands()...)
	table = append(table, modelCommands()...)
	table = append(table, adaptCommand())
	return append(table, devtools.Commands()...)
}

func usage(w io.Writer, table []cli.Command) {
	fmt.Fprintf(w, "M3Ret Viewer %s — similar-case retrieval for medical images\n\nusage:\n", Version)
	fmt.Fprintf(w, "  %-38s %s\n", "m3ret [--library DIR] [PATH...]", "open the window (PATHs are imported)")
	cli.Usage(w, table)
	fmt.Fprint(w, `
common flags: --library DIR  --model NAME|PATH  --ort-lib PATH  --provider NAME  --json
exit codes: 0 ok, 1 failed, 2 bad arguments, 3 some files failed
`)
}
