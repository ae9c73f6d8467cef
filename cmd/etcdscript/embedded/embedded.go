// Package embedded is the etcd server of `etcdscript run --embedded`, run
// as its own program, etcdscript-etcd. etcd's server packages take tens of
// milliseconds to initialise in every process that links them, so the
// etcdscript command does not: it starts this program when --embedded asks
// for a server, and the one-get script stays as quick as etcdctl.
//
// The protocol is small: the program starts one member (package embedetcd:
// reachable only through a unix socket in a private directory; data in
// --data-dir, synced to disk and locked against a second server, or in a
// temporary directory removed at exit), prints its client endpoints as one
// line on stdout, then serves until its stdin ends (the parent exited or
// closed the pipe) or a SIGTERM arrives. SIGINT is left to the parent, which
// is the one to decide what a Ctrl-C stops. Errors go to stderr as
// `Error: ...`, with exit code 6 when the data directory cannot be used (in
// use by another server, not writable) and 1 otherwise.
package embedded

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/etcdscript/etcdscript/embedetcd"
)

// ExitDataDir is the exit code when the data directory cannot be used:
// etcdscript's exit code for I/O errors.
const ExitDataDir = 6

// startTimeout bounds the server's start.
const startTimeout = time.Minute

// Main runs the program with the process's arguments and streams and
// returns its exit code.
func Main() int {
	return Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run is Main with its inputs given: the arguments after the program name
// (--data-dir DIR), the stdin whose end stops the server, and the writers
// of the endpoints line and of errors.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("etcdscript-etcd", flag.ContinueOnError)
	flags.SetOutput(stderr)
	dataDir := flags.String("data-dir", "", "data directory, kept and synced to disk (default: a temporary directory removed at exit)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "Error: unexpected arguments %q\n", flags.Args())
		return 2
	}
	// A Ctrl-C on the terminal reaches the whole process group; the parent
	// handles it and still needs the server for its cleanup.
	signal.Ignore(syscall.SIGINT)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	defer signal.Stop(term)

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	srv, err := embedetcd.Start(ctx, embedetcd.Config{DataDir: memberDir(*dataDir)})
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		if dataDirError(err) {
			return ExitDataDir
		}
		return 1
	}
	defer srv.Close()
	if _, err := fmt.Fprintln(stdout, strings.Join(srv.Endpoints(), ",")); err != nil {
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
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "Error: stopping etcd: %v\n", err)
		return 1
	}
	return 0
}

// legacyMember is the subdirectory in which etcdscript before embedetcd
// kept the member's data of --data-dir.
const legacyMember = "m0"

// memberDir returns the directory etcd keeps its data in for --data-dir
// dir: dir itself (etcd's layout, dir/member), or dir/m0 when dir was made
// by an earlier etcdscript and holds its data there.
func memberDir(dir string) string {
	if dir == "" {
		return ""
	}
	legacy := filepath.Join(dir, legacyMember)
	if _, err := os.Stat(filepath.Join(dir, "member")); os.IsNotExist(err) {
		if fi, err := os.Stat(filepath.Join(legacy, "member")); err == nil && fi.IsDir() {
			return legacy
		}
	}
	return dir
}

// dataDirError reports whether err is about the data directory rather than
// etcd itself.
func dataDirError(err error) bool {
	return errors.Is(err, embedetcd.ErrDataDirInUse) || errors.Is(err, fs.ErrPermission)
}
