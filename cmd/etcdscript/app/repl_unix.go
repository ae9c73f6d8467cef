//go:build unix

package app

import "golang.org/x/sys/unix"

// ensureTerminalWidth gives a terminal that reports no size (a serial
// console, some containers) 80 columns, as `stty cols 80` would. liner
// falls back on such a terminal to reading raw lines in which arrow keys
// arrive as escape sequences; with a width it edits lines and recalls
// history.
func ensureTerminalWidth(fd int) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col > 0 {
		return
	}
	ws.Col = 80
	if ws.Row == 0 {
		ws.Row = 24
	}
	_ = unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws)
}
