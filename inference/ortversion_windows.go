package inference

// libraryVersion is not probed on Windows; Start reports the binding's own
// error for a library that is too old.
func libraryVersion(string) string { return "" }
