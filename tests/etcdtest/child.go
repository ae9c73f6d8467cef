package etcdtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// ChildEnv is set in the environment of a test binary that StartChild
// re-executes to serve etcd.
const ChildEnv = "ETCDTEST_CHILD_SERVER"

// ServeChild makes a test binary re-executed by StartChild serve etcd: call
// it first in TestMain, and return when it reports true. It serves a
// one-member cluster until its standard input closes, then exits the
// process. Benchmarks run the server this way so that the CPU time of the
// benchmark process is the client's own.
func ServeChild() bool {
	if os.Getenv(ChildEnv) == "" {
		return false
	}
	cl, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("endpoints", strings.Join(cl.Endpoints(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	cl.Close()
	os.Exit(0)
	return true
}

// Child is an etcd server in a child process, started by StartChild.
type Child struct {
	cmd       *exec.Cmd
	stdin     io.Closer
	endpoints []string
}

// StartChild re-executes the current test binary as an etcd server (its
// TestMain must call ServeChild) and waits until it serves.
func StartChild() (*Child, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("etcdtest: child server: %w", err)
	}
	c := &Child{cmd: cmd, stdin: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	eps, ok := strings.CutPrefix(strings.TrimSpace(line), "endpoints ")
	if err != nil || !ok {
		c.Close()
		return nil, fmt.Errorf("etcdtest: child server said %q (%v)", line, err)
	}
	c.endpoints = strings.Split(eps, ",")
	return c, nil
}

// Endpoints returns the child's client endpoints.
func (c *Child) Endpoints() []string { return c.endpoints }

// Close stops the child and waits for it.
func (c *Child) Close() error {
	c.stdin.Close()
	return c.cmd.Wait()
}

// SharedChild is a Child started on first use and shared by a test
// binary's benchmarks; its zero value is ready.
type SharedChild struct {
	once  sync.Once
	child *Child
	err   error
}

// Endpoints starts the child if needed and returns its endpoints, failing
// t when it cannot start.
func (s *SharedChild) Endpoints(t TB) []string {
	t.Helper()
	s.once.Do(func() { s.child, s.err = StartChild() })
	if s.err != nil {
		t.Fatalf("%v", s.err)
	}
	return s.child.Endpoints()
}

// Close stops the child, if it was started.
func (s *SharedChild) Close() {
	if s.child != nil {
		s.child.Close()
	}
}
