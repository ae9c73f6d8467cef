package engine

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Commands of io.popen and os.execute (outside a sandbox) run as
// `/bin/sh -c LINE` in a process group of their own. When the run's context
// ends (its timeout, an interrupt, os.exit), the whole group is killed, not
// only the shell: `sh -c "sleep 20"` or a pipeline would otherwise live on,
// and hold the pipes the run reads, until they finish. Output still held
// open by a process that left the group is given up after cmdWaitDelay.
// A command the script started and did not close is killed, and waited
// for, when the run ends.

// cmdWaitDelay bounds how long a finished or killed command's output pipes
// are read after it ends (a child that left its group may hold them).
const cmdWaitDelay = 100 * time.Millisecond

// command returns the exec.Cmd of a shell command line of run r. onCancel,
// when not nil, runs when the run's context ends, after the group is
// killed (to unblock the run's own reads and writes of the command's pipes).
func (r *run) command(line string, onCancel func()) *exec.Cmd {
	cmd := exec.CommandContext(r.vmCtx, "/bin/sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The group's id is the shell's pid (Setpgid with Pgid 0).
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if onCancel != nil {
			onCancel()
		}
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = cmdWaitDelay
	return cmd
}

// popenProc is a command started by io.popen, with the parent's end of its
// pipe: the command's stdout (mode "r") or stdin (mode "w").
type popenProc struct {
	cmd    *exec.Cmd
	pipe   *os.File
	waited bool
	err    error
}

// wait closes the parent's end of the pipe and waits for the command, once.
func (p *popenProc) wait() error {
	if !p.waited {
		p.waited = true
		p.pipe.Close()
		p.err = p.cmd.Wait()
	}
	return p.err
}

// popen is io.popen(command [, mode]): the command's output to read (mode
// "r", the default) or its input to write ("w"), as a file. Its close
// returns true when the command exited with status 0, else nil, "exit" and
// the status (the results of Lua 5.2, which 5.1's true extends).
func (r *run) popen(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "io.popen"}
	line := a.String(1, "command")
	mode := "r"
	if L.Get(2) != lua.LNil {
		mode = a.String(2, "mode")
	}
	if mode != "r" && mode != "w" {
		a.Fail(2, "mode", "mode must be \"r\" or \"w\", got %q", mode)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(line + ": " + err.Error()))
		return 2
	}
	mine, theirs := pr, pw
	if mode == "w" {
		mine, theirs = pw, pr
	}
	// A read or write blocked on the pipe returns once its deadline has
	// passed: the kill alone does not unblock it if a process outside the
	// group holds the other end.
	cmd := r.command(line, func() { mine.SetDeadline(time.Now()) })
	if mode == "r" {
		cmd.Stdout = theirs
	} else {
		cmd.Stdin = theirs
		cmd.Stdout = r.rt.StdoutWriter()
	}
	cmd.Stderr = r.rt.StderrWriter()
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		mine.Close()
		L.Push(lua.LNil)
		L.Push(lua.LString(line + ": " + err.Error()))
		return 2
	}
	p := &popenProc{cmd: cmd, pipe: mine}
	r.procs = append(r.procs, p)
	s := &stream{name: "popen", proc: p, ctx: r.vmCtx, rt: r.rt}
	if mode == "r" {
		s.r = bufio.NewReader(mine)
	} else {
		s.w = mine
	}
	L.Push(newStreamValue(L, s))
	return 1
}

// closeProc is close of a popen file: it waits for the command and
// returns true, or nil, "exit" and its status.
func (s *stream) closeProc(L *lua.LState) int {
	s.closed = true
	err := s.proc.wait()
	if s.ctx != nil && s.ctx.Err() != nil {
		s.rt.RaiseEnded(L, "io.close", s.ctx)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		L.Push(lua.LTrue)
		return 1
	case errors.As(err, &ee):
		L.Push(lua.LNil)
		L.Push(lua.LString("exit"))
		L.Push(lua.LNumber(ee.ExitCode()))
		return 3
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(err.Error()))
	return 2
}

// closeProcs ends the commands the script left open: the run's context is
// over by now, so their groups have been killed; this waits for them.
func (r *run) closeProcs() {
	for _, p := range r.procs {
		p.wait()
	}
	r.procs = nil
}

// raiseIfEnded raises the run's timeout or interrupt error when err came
// from the end of the stream's context (a read the context cut short).
func (s *stream) raiseIfEnded(L *lua.LState, op string, err error) {
	if err != nil && s.ctx != nil && s.ctx.Err() != nil {
		s.rt.RaiseEnded(L, op, s.ctx)
	}
}
