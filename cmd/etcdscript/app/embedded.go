package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// helperName is the program that serves --embedded (package
// cmd/etcdscript/embedded). etcd's server packages cost tens of
// milliseconds of start-up in any process that links them, so this one
// does not; the helper is started only when --embedded asks for it.
const helperName = "etcdscript-etcd"

// helperEnv names the helper program explicitly.
const helperEnv = "ETCDSCRIPT_ETCD_HELPER"

// helperExitDataDir is the helper's exit code when the data directory
// cannot be used, in use by another server above all
// (embedded.ExitDataDir; this package does not link etcd's server).
const helperExitDataDir = 6

// helperStopTimeout bounds the wait for the helper to stop its server
// after its stdin is closed.
const helperStopTimeout = 30 * time.Second

// startEmbedded starts the etcd server of --embedded and returns its
// endpoints (a unix socket only this user can reach). stop shuts it down;
// its data is removed unless --data-dir named a directory to keep. A data
// directory that another server holds is an I/O error (exit 6).
func startEmbedded(ctx context.Context, c *cli.Context, p Process) (endpoints []string, stop func(), err error) {
	path, args, dir, err := findHelper(p)
	if err != nil {
		return nil, nil, &connectError{err: err}
	}
	if d := c.String(flagDataDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, nil, &ioError{what: "--data-dir", err: err}
		}
		args = append(args, "--data-dir", abs)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	// Its own process group: a Ctrl-C on the terminal is for this
	// process, which still needs the server while the script unwinds.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errOut strings.Builder
	cmd.Stderr = &errOut
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, &connectError{err: err}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, &connectError{err: err}
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, &connectError{err: fmt.Errorf("starting %s: %w", helperName, err)}
	}
	waited := make(chan error, 1)
	stop = func() {
		in.Close()
		select {
		case <-waited:
		case <-time.After(helperStopTimeout):
			cmd.Process.Kill()
			<-waited
		}
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		// Read to the end so that the helper never blocks on its stdout;
		// Wait needs the pipe drained before it returns.
		io.Copy(io.Discard, out)
		waited <- cmd.Wait()
	}()
	select {
	case l := <-line:
		if l == "" {
			err := <-waited
			msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(errOut.String()), "Error: "))
			if msg == "" {
				msg = fmt.Sprint(err)
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == helperExitDataDir {
				return nil, nil, &ioError{what: "--data-dir", err: errors.New(msg)}
			}
			return nil, nil, &connectError{err: fmt.Errorf("embedded etcd: %s", msg)}
		}
		return strings.Split(l, ","), stop, nil
	case <-ctx.Done():
		stop()
		return nil, nil, context.Cause(ctx)
	}
}

// findHelper finds the program that serves --embedded: the one
// ETCDSCRIPT_ETCD_HELPER names, the one installed beside this executable,
// the one on PATH, or else, in a build from the source tree (go run
// ./cmd/etcdscript), `go run` of the helper's package in that tree. It
// returns the program, its arguments and the directory to run it in.
func findHelper(p Process) (path string, args []string, dir string, err error) {
	if v, ok := p.LookupEnv(helperEnv); ok && v != "" {
		return v, nil, "", nil
	}
	if exe, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(exe), helperName)
		if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
			return beside, nil, "", nil
		}
	}
	if found, err := exec.LookPath(helperName); err == nil {
		return found, nil, "", nil
	}
	if root := sourceRoot(); root != "" {
		if gobin, err := exec.LookPath("go"); err == nil {
			return gobin, []string{"run", "./cmd/etcdscript/" + helperName}, root, nil
		}
	}
	return "", nil, "", errors.New("--embedded needs the " + helperName + " program beside etcdscript or on PATH " +
		"(go install github.com/etcdscript/etcdscript/cmd/etcdscript/...)")
}

// sourceRoot returns the module's source directory when this binary was
// built from it without -trimpath (go run, go build in the tree), else "".
func sourceRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module github.com/etcdscript/etcdscript\n") {
		return ""
	}
	return root
}
