// Package quietlocale keeps Fyne from printing "Fyne error: Error parsing
// user locale C" on every run in the C or POSIX locale (LANG=C.UTF-8, the
// usual one in scripts, cron, containers and CI). Fyne's lang package reads
// the locale in its init function and cannot parse "C.UTF-8"; when the
// messages locale is C or POSIX with a suffix, this package sets LANGUAGE
// (which only gettext-style lookups read, and which they ignore in the C
// locale) to "en", the language Fyne then picks anyway.
//
// It must run before Fyne's init: Go initialises packages in import-path
// order among those whose imports are ready, and this one imports only os,
// so it comes before fyne.io/fyne/v2/lang, which needs packages whose paths
// sort after this one's (github.com/nicksnyder/go-i18n, golang.org/x/text).
// Import it for its side effect from the package that links Fyne.
package quietlocale

import "os"

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	loc := ""
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = os.Getenv(name); loc != "" {
			break
		}
	}
	if isPOSIX(loc) {
		os.Setenv("LANGUAGE", "en")
	}
}

// isPOSIX reports C and POSIX with a codeset or modifier ("C.UTF-8",
// "POSIX@x"): the plain names Fyne already treats as no locale.
func isPOSIX(loc string) bool {
	for _, base := range []string{"C", "POSIX"} {
		if len(loc) > len(base) && loc[:len(base)] == base && (loc[len(base)] == '.' || loc[len(base)] == '@') {
			return true
		}
	}
	return false
}
