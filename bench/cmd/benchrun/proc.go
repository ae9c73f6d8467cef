package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// usage is what one child process cost, from wait4's rusage.
type usage struct {
	Wall time.Duration
	// CPU is user plus system time of the child and the children it waited
	// for (a shell loop's etcdctl processes included).
	CPU time.Duration
	// MaxRSS is the largest resident set of the child or of any child it
	// waited for, in bytes.
	MaxRSS int64
}

// timed runs cmd to completion and measures it. The error includes the
// tail of stderr, which is also returned whole.
func timed(cmd *exec.Cmd) (usage, []byte, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	t0 := time.Now()
	err := cmd.Run()
	u := usage{Wall: time.Since(t0)}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			u.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
		}
	}
	if err != nil {
		return u, stderr.Bytes(), fmt.Errorf("%s: %w%s", describe(cmd), err, tail(stderr.Bytes()))
	}
	return u, stderr.Bytes(), nil
}

func describe(cmd *exec.Cmd) string {
	args := cmd.Args
	if len(args) > 4 {
		args = append(args[:4:4], "...")
	}
	return strings.Join(args, " ")
}

// tail returns the last lines of a child's output, to put in an error.
func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}

// serverEnv marks this program, re-executed, as the etcd server of the run.
const serverEnv = "ETCDSCRIPT_BENCHRUN_SERVER"

// serve is the child process that holds the etcd server: one member with
// tests/etcdtest's defaults, as the client benchmarks use. It prints its
// endpoints and serves until its stdin closes.
func serve() int {
	ctx, cancel := context.WithTimeout(context.Background(), etcdtest.StartTimeout)
	cl, err := etcdtest.Start(ctx, etcdtest.Options{})
	cancel()
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("endpoints", strings.Join(cl.Endpoints(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := cl.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing etcd:", err)
		return 1
	}
	return 0
}

// server is a running child etcd server.
type server struct {
	cmd       *exec.Cmd
	stdin     io.Closer
	endpoints []string
}

// startServer re-executes this program as the etcd server of the run, so
// that its CPU is not charged to the process being measured.
func startServer() (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to start the server: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serverEnv+"=1")
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
		return nil, fmt.Errorf("starting the etcd server: %w", err)
	}
	s := &server{cmd: cmd, stdin: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("etcd server: %w", err)
	}
	eps, ok := strings.CutPrefix(strings.TrimSpace(line), "endpoints ")
	if !ok {
		s.stop()
		return nil, fmt.Errorf("etcd server said %q", strings.TrimSpace(line))
	}
	s.endpoints = strings.Split(eps, ",")
	return s, nil
}

func (s *server) stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// serverVersion is the version of the etcd server module this program was
// built with.
func serverVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.etcd.io/etcd/server/v3" {
				return d.Version
			}
		}
	}
	return "(version unknown)"
}
