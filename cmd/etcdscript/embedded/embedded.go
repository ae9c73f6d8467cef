// Package embedded is the etcd server of `etcdscript run --embedded`, run
// as its own program, etcdscript-etcd. etcd's server packages take tens of
// milliseconds to initialise in every process that links them, so the
// etcdscript command does not: it starts this program when --embedded asks
// for a server, and the one-get script stays as quick as etcdctl.
//
// The protocol is small: the program starts one member (tests/etcdtest, on
// 127.0.0.1 with free ports; data in --data-dir, or in a temporary directory
// removed at exit), prints its client endpoints as one line on stdout, then
// serves until its stdin ends (the parent exited or closed the pipe) or a
// SIGTERM arrives. SIGINT is left to the parent, which is the one to decide
// what a Ctrl-C stops. Errors go to stderr as `Error: ...` with exit code 1.
package embedded

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// Main runs the program with the process's arguments and streams and
// returns its exit code.
func Main() int {
	return Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run is Main with its inputs given: the arguments after the program name
// (--data-dir DIR), the stdin whose end stops the server, and the writers
// of the endpoints line and of errors.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("etcdscript-etcd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "data directory, kept (default: a temporary directory removed at exit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "Error: unexpected arguments %q\n", fs.Args())
		return 2
	}
	// A Ctrl-C on the terminal reaches the whole process group; the parent
	// handles it and still needs the server for its cleanup.
	signal.Ignore(syscall.SIGINT)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	defer signal.Stop(term)

	ctx, cancel := context.WithTimeout(context.Background(), etcdtest.StartTimeout)
	cl, err := etcdtest.Start(ctx, etcdtest.Options{DataDir: *dataDir})
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "Error: starting etcd: %v\n", err)
		return 1
	}
	defer cl.Close()
	if _, err := fmt.Fprintln(stdout, strings.Join(cl.Endpoints(), ",")); err != nil {
		return 1
	}
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-term:
	}
	if err := cl.Close(); err != nil {
		fmt.Fprintf(stderr, "Error: stopping etcd: %v\n", err)
		return 1
	}
	return 0
}
