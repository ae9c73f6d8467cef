//go:build !unix

package app

// ensureTerminalWidth does nothing where terminals have no settable size.
func ensureTerminalWidth(int) {}
