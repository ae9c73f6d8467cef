package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdBounded runs a command that must end by itself within MAX (a Go
// duration; keep it loose, the machine may be loaded) with exit code N; its
// stdout and stderr are kept for the assertions that follow. With
// -stdin-open its stdin is a pipe that stays open and empty:
//
//	bounded [-stdin-open] MAX N PROGRAM [ARGS...]
func cmdBounded(ts *testscript.TestScript, neg bool, args []string) {
	holdStdin := len(args) > 0 && args[0] == "-stdin-open"
	if holdStdin {
		args = args[1:]
	}
	if neg || len(args) < 3 {
		ts.Fatalf("usage: bounded [-stdin-open] MAX N PROGRAM [ARGS...]")
	}
	limit, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("bounded: %v", err)
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("bounded: %q is not a number", args[1])
	}
	cmd, stdout, stderr := scriptCommand(ts, args[2], args[3:])
	if holdStdin {
		defer holdStdinOpen(ts, cmd)()
	}
	start := time.Now()
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-exited:
	case <-time.After(limit + 60*time.Second):
		cmd.Process.Kill()
		<-exited
		ts.Fatalf("bounded: the command had not ended %v after it started", limit+60*time.Second)
	}
	took := time.Since(start)
	fmt.Fprint(ts.Stdout(), stdout.String())
	fmt.Fprint(ts.Stderr(), stderr.String())
	if got := exitCode(werr); got != want {
		ts.Fatalf("exit code %d, want %d\nstderr: %s", got, want, stderr.String())
	}
	if took > limit {
		ts.Fatalf("the command took %v, want at most %v", took, limit)
	}
}

// holdStdinOpen gives cmd (not yet started) a stdin that stays open and
// empty until the returned function is called, after cmd has ended.
func holdStdinOpen(ts *testscript.TestScript, cmd *exec.Cmd) func() {
	pr, pw, err := os.Pipe()
	ts.Check(err)
	cmd.Stdin = pr
	return func() {
		pr.Close()
		pw.Close()
	}
}
