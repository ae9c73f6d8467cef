package luart

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// pollEvery is how many steps a Poll lets pass between looks at its
// context: a look is a non-blocking channel receive (a few ns), a step of
// the loops that use it (a pattern backtrack, a sort comparison, a decoded
// value) is of the same order, so a look every 1024 steps costs well under
// 1% and still notices a deadline within microseconds.
const pollEvery = 1024

// Poll lets a Go loop that may run long (a built-in that backtracks, sorts,
// or walks a large value) notice that the run's context has ended. gopher-lua
// checks the context only between VM instructions, so such a loop, called
// from one instruction, must check it itself (ARCHITECTURE.md: "A script is
// untrusted input"). The zero Poll never reports an end.
//
// A Poll is used by one goroutine.
type Poll struct {
	done <-chan struct{}
	n    uint32
}

// NewPoll returns a Poll of ctx; a nil ctx never ends.
func NewPoll(ctx context.Context) Poll {
	if ctx == nil {
		return Poll{}
	}
	return Poll{done: ctx.Done()}
}

// Step counts one step and reports whether the context has ended, which it
// looks at only once every pollEvery steps.
func (p *Poll) Step() bool {
	p.n++
	if p.n%pollEvery != 0 || p.done == nil {
		return false
	}
	return p.Ended()
}

// Ended reports whether the context has ended, looking now.
func (p *Poll) Ended() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// RaiseEnded raises, as op's error, the end of the run's context: an error
// object of code script_timeout or canceled. A built-in calls it when a
// Poll reports an end; nothing happens if ctx has not ended after all.
func (rt *Runtime) RaiseEnded(L *lua.LState, op string, ctx context.Context) {
	err := ctx.Err()
	if err == nil {
		err = rt.Context().Err()
	}
	if err == nil {
		return
	}
	Raise(L, rt.NewError(op, "", err))
}
