package app

import (
	"errors"
	"fmt"
)

// usageError is a bad command line: exit 128. hint, when set, is one line
// of usage printed after the error.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// ioError is a file the command could not read: exit 6.
type ioError struct {
	what string
	err  error
}

func (e *ioError) Error() string {
	if e.what == "" { // err says what it was about
		return e.err.Error()
	}
	return fmt.Sprintf("%s: %v", e.what, e.err)
}
func (e *ioError) Unwrap() error { return e.err }

// exitError carries an exit code decided by a command (a script's
// os.exit, check's problems) with an optional message already printed.
type exitError struct {
	code int
	err  error // nil when there is nothing more to print
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// connectError is a failure to reach etcd before the script ran: exit 2.
type connectError struct{ err error }

func (e *connectError) Error() string { return "could not connect: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// asExit is errors.As for the error kinds of this package.
func asExit(err error) (*exitError, bool) {
	var e *exitError
	ok := errors.As(err, &e)
	return e, ok
}
