//go:build !headless

package app

import (
	"errors"

	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

// The search scope: this library, or the department index the settings
// (or --index) name. The choice is shown only when one is set.
const (
	scopeLocal = "This library"
	scopeDept  = "Department"
)

// buildScope makes the scope selector (hidden without a department index).
func (g *GUI) buildScope() *widget.Select {
	g.scope = widget.NewSelect([]string{scopeLocal, scopeDept}, g.setScope)
	g.scope.Selected = scopeLocal
	g.scope.Hide()
	return g.scope
}

// UseDepartment shows the scope selector and, when url is not empty,
// switches searches to that department index.
func (g *GUI) UseDepartment(url string) {
	g.deptURL = url
	if url == "" {
		return
	}
	g.scope.Show()
	g.scope.SetSelected(scopeDept)
}

// setScope switches the index searches use, in the background for a
// department index (it is on the network); the last search is repeated.
func (g *GUI) setScope(choice string) {
	url := ""
	if choice == scopeDept {
		url = g.deptURL
		g.status.SetText("Connecting to the department index…")
	}
	g.started("Connecting", g.s.StartUseDept(url, cli.DeptKey, func(d *library.DeptIndex, err error) {
		if err != nil {
			g.status.SetText("The department index is not available: " + deptProblem(err) + " Searching this library.")
			logf("department index: %v", err)
			g.scope.Selected = scopeLocal
			g.scope.Refresh()
			return
		}
		if d == nil {
			g.status.SetText("Searching this library.")
		} else {
			for _, n := range d.Notes() {
				logf("department index: %s", n)
			}
			g.status.SetText("Searching the department index: " + d.Name())
		}
		g.requery()
	}))
}

// deptProblem says in plain words why a department index could not be used.
func deptProblem(err error) string {
	switch {
	case errors.Is(err, library.ErrModelMismatch):
		return "it was built with another model than this workstation's."
	case errors.Is(err, library.ErrNoDeptIndex):
		return "its collection does not exist (has the sync worker run?)."
	case errors.Is(err, library.ErrDeptBadURL):
		return "its address in Settings is not valid."
	case errors.Is(err, library.ErrDeptRedirect):
		return "it sent this workstation to another server, which was refused (the API key stays with the index)."
	}
	return "it did not answer (" + plain(err) + ")."
}
