package migrate

import (
	"errors"
	"fmt"
)

// ErrRefused is wrapped by every RefusedError.
var ErrRefused = errors.New("migration refused")

// RefusedError is a migration the runner would not start: checksum drift, a
// dirty state, a version out of order, the lock not acquired in time, or a
// state changed by someone else. Nothing was written. The CLI exits 12.
type RefusedError struct {
	// Reason says what is wrong and what to run next.
	Reason string
}

func (e *RefusedError) Error() string { return "migration refused: " + e.Reason }

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// FailedError is a migration whose up or down raised an error. For a
// non-atomic migration the state is left dirty; for an atomic one nothing
// was committed.
type FailedError struct {
	Version int64
	File    string
	Err     error
	// Next says what to run to recover.
	Next string
}

func (e *FailedError) Error() string {
	msg := fmt.Sprintf("migration %d (%s) failed: %v", e.Version, e.File, e.Err)
	if e.Next != "" {
		msg += "; " + e.Next
	}
	return msg
}

// Unwrap returns the migration's error.
func (e *FailedError) Unwrap() error { return e.Err }
