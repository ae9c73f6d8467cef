// Package cli_test runs the etcdscript command end to end: scripts in
// testdata/*.txtar (github.com/rogpeppe/go-internal/testscript) give each
// command line with its expected stdout, stderr and exit code, against real
// etcd servers started by the script itself (the etcd command below).
//
// The test binary doubles as the etcdscript and etcdscript-etcd programs
// (testscript.Main), so every command runs as a real process: signals,
// stdin and exit codes are the real ones.
package cli_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/cmd/etcdscript/app"
	"github.com/etcdscript/etcdscript/cmd/etcdscript/embedded"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

func TestMain(m *testing.M) {
	testscript.Main(leakCheck{m}, map[string]func(){
		"etcdscript":      etcdscriptMain,
		"etcdscript-etcd": func() { os.Exit(embedded.Main()) },
	})
}

func etcdscriptMain() {
	os.Exit(app.Main(app.Process{Args: os.Args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv}))
}

// leakCheck fails the run when a goroutine of the test process (the etcd
// servers, the custom commands) outlives the tests.
type leakCheck struct{ m *testing.M }

func (l leakCheck) Run() int {
	code := l.m.Run()
	if code == 0 {
		if err := etcdtest.FindLeaks(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	return code
}

// repoRoot is the repository's root directory, for the example scripts.
func repoRoot(t testing.TB) string {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestScripts(t *testing.T) {
	root := repoRoot(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "scripts", "examples"))
			env.Setenv("HOME", env.WorkDir)
			// A port nothing listens on: its dial fails at once.
			env.Setenv("DEAD", deadEndpoint(env.T()))
			env.Values[stateKey{}] = &scriptState{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"etcd":      cmdEtcd,
			"kv":        cmdKV,
			"code":      cmdCode,
			"interrupt": cmdInterrupt,
			"bounded":   cmdBounded,
			"waitfile":  cmdWaitFile,
			"junit":     cmdJUnit,
		},
	})
}

type stateKey struct{}

// scriptState is what the custom commands keep for one script.
type scriptState struct {
	cluster *etcdtest.Cluster
	cli     *client.Client
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

// deadEndpoint returns 127.0.0.1:port for a port that was free a moment
// ago and has nothing listening.
func deadEndpoint(t interface{ Fatal(...any) }) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// cmdEtcd manages the script's own etcd server:
//
//	etcd start [tls]    start one member; ETCDCTL_ENDPOINTS and $ETCD name it
//	                    (tls: clients need $CACERT, $CERT, $KEY; $ETCD is
//	                    https://...; $CERT2 and $KEY2 are a second client pair)
//	etcd stop           stop it (the endpoint stays in the environment, dead)
//	etcd auth USER PASS create USER with the root role and turn auth on
func cmdEtcd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: etcd start [tls] | stop | auth USER PASS")
	}
	st := state(ts)
	switch args[0] {
	case "start":
		if st.cluster != nil {
			ts.Fatalf("etcd is already started")
		}
		tls := len(args) > 1 && args[1] == "tls"
		ctx, cancel := context.WithTimeout(context.Background(), etcdtest.StartTimeout)
		defer cancel()
		c, err := etcdtest.Start(ctx, etcdtest.Options{ClientTLS: tls})
		ts.Check(err)
		st.cluster = c
		ts.Defer(func() {
			if st.cli != nil {
				st.cli.Close()
			}
			c.Close()
		})
		ts.Setenv("ETCDCTL_ENDPOINTS", strings.Join(c.Endpoints(), ","))
		ts.Setenv("ETCD", c.ClientURLs()[0])
		cfg := client.Config{Endpoints: c.Endpoints(), DialTimeout: 10 * time.Second}
		if tls {
			files := c.TLS()
			ts.Setenv("CACERT", files.CAFile)
			ts.Setenv("CERT", files.CertFile)
			ts.Setenv("KEY", files.KeyFile)
			cert2, key2, err := files.IssueClientCert("second")
			ts.Check(err)
			ts.Setenv("CERT2", cert2)
			ts.Setenv("KEY2", key2)
			cfg.TLS = c.ClientTLSConfig()
		}
		cli, err := client.New(cfg)
		ts.Check(err)
		st.cli = cli
	case "stop":
		if st.cluster == nil {
			ts.Fatalf("etcd is not started")
		}
		ts.Check(st.cluster.Close())
	case "auth":
		if len(args) != 3 {
			ts.Fatalf("usage: etcd auth USER PASS")
		}
		cli := st.client(ts)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := cli.UserAdd(ctx, args[1], args[2])
		ts.Check(err)
		_, err = cli.UserGrantRole(ctx, args[1], "root")
		ts.Check(err)
		_, err = cli.AuthEnable(ctx)
		ts.Check(err)
		// The helper's own client has no credentials any more.
		cli.Close()
		st.cli = nil
	default:
		ts.Fatalf("etcd: unknown subcommand %q", args[0])
	}
}

func (st *scriptState) client(ts *testscript.TestScript) *client.Client {
	if st.cli == nil {
		ts.Fatalf("no etcd client: run `etcd start` first (and not after `etcd auth`)")
	}
	return st.cli
}

// cmdKV reads and writes the script's etcd directly, with the Go client,
// to set up and check what the command under test did:
//
//	kv put KEY VALUE
//	kv get KEY          prints the value (stdout); ! kv get KEY: absent
//	kv count PREFIX     prints the number of keys under PREFIX
func cmdKV(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: kv put KEY VALUE | get KEY | count PREFIX")
	}
	cli := state(ts).client(ts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch args[0] {
	case "put":
		if len(args) != 3 || neg {
			ts.Fatalf("usage: kv put KEY VALUE")
		}
		_, err := cli.Put(ctx, args[1], args[2])
		ts.Check(err)
	case "get":
		resp, err := cli.Get(ctx, args[1])
		ts.Check(err)
		switch {
		case len(resp.Kvs) == 0 && !neg:
			ts.Fatalf("key %q is absent", args[1])
		case len(resp.Kvs) > 0 && neg:
			ts.Fatalf("key %q is present: %q", args[1], resp.Kvs[0].Value)
		case len(resp.Kvs) > 0:
			fmt.Fprintf(ts.Stdout(), "%s\n", resp.Kvs[0].Value)
		}
	case "count":
		resp, err := cli.Get(ctx, args[1], client.WithPrefix(), client.WithCountOnly())
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%d\n", resp.Count)
	default:
		ts.Fatalf("kv: unknown subcommand %q", args[0])
	}
}

// cmdCode runs a command and checks its exit code, keeping its stdout and
// stderr for the assertions that follow: `code 3 exec etcdscript check x.lua`.
// (exec alone only tells success from failure.) stdin, when set, is used.
func cmdCode(ts *testscript.TestScript, neg bool, args []string) {
	// "within D" bounds how long the command may take, loosely: a run
	// that ignored its deadline or budget would take far longer.
	var within time.Duration
	if len(args) > 3 && args[1] == "within" {
		d, err := time.ParseDuration(args[2])
		if err != nil {
			ts.Fatalf("code: within %q: %v", args[2], err)
		}
		within = d
		args = append(args[:1:1], args[3:]...)
	}
	if neg || len(args) < 3 || args[1] != "exec" {
		ts.Fatalf("usage: code N [within DURATION] exec PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("code: %q is not a number", args[0])
	}
	start := time.Now()
	err = ts.Exec(args[2], args[3:]...)
	if took := time.Since(start); within > 0 && took > within {
		ts.Fatalf("the command took %v, more than %v", took.Round(time.Millisecond), within)
	}
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("code: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// cmdInterrupt starts a command, waits for it to create a file (it is then
// inside the part the test wants to interrupt), sends it a signal and checks
// its exit code; its stdout and stderr are kept for the assertions that
// follow. With -stdin-open, the command's stdin is a pipe that stays open
// and empty (a terminal nobody types into); with -within DURATION, the
// command must end within DURATION of the signal:
//
//	interrupt [-stdin-open] [-within DURATION] INT|TERM READY-FILE N PROGRAM [ARGS...]
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	holdStdin := len(args) > 0 && args[0] == "-stdin-open"
	if holdStdin {
		args = args[1:]
	}
	within := time.Duration(0)
	if len(args) > 1 && args[0] == "-within" {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			ts.Fatalf("interrupt: %v", err)
		}
		within, args = d, args[2:]
	}
	if neg || len(args) < 4 {
		ts.Fatalf("usage: interrupt [-stdin-open] [-within DURATION] INT|TERM READY-FILE N PROGRAM [ARGS...]")
	}
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM}[args[0]]
	if sig == 0 {
		ts.Fatalf("interrupt: unknown signal %q", args[0])
	}
	ready := ts.MkAbs(args[1])
	want, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("interrupt: %q is not a number", args[2])
	}
	cmd, stdout, stderr := scriptCommand(ts, args[3], args[4:])
	if holdStdin {
		defer holdStdinOpen(ts, cmd)()
	}
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for waiting := true; waiting; {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case err := <-exited:
			ts.Fatalf("interrupt: the command ended (%v) before it made %s\nstdout: %s\nstderr: %s", err, args[1], stdout.String(), stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			ts.Fatalf("interrupt: %s did not appear", args[1])
		case <-time.After(10 * time.Millisecond):
		}
	}
	ts.Check(cmd.Process.Signal(sig))
	signaled := time.Now()
	var werr error
	select {
	case werr = <-exited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-exited
		ts.Fatalf("interrupt: the command did not end after SIG%s", args[0])
	}
	fmt.Fprint(ts.Stdout(), stdout.String())
	fmt.Fprint(ts.Stderr(), stderr.String())
	if got := exitCode(werr); got != want {
		ts.Fatalf("exit code %d, want %d\nstderr: %s", got, want, stderr.String())
	}
	if took := time.Since(signaled); within > 0 && took > within {
		ts.Fatalf("the command ended %v after SIG%s, want at most %v", took, args[0], within)
	}
}

// scriptCommand makes the command PROGRAM ARGS as the script's own commands
// run: in its directory, with its environment, its output kept in buffers.
func scriptCommand(ts *testscript.TestScript, program string, args []string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	path, err := exec.LookPath(program)
	if err != nil {
		// LookPath sees the test's PATH; testscript's own PATH is in its env.
		path = lookPath(ts, program)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// exitCode is the exit code of a command that ended with err.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

// cmdWaitFile waits until a file exists: `waitfile NAME`.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile NAME")
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("waitfile: %s did not appear", args[0])
}

// scriptEnv is the environment testscript gives the script's commands.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, name := range []string{"PATH", "HOME", "TMPDIR", "WORK", "ETCDCTL_ENDPOINTS", "ETCD", "CACERT", "CERT", "KEY", "DEAD"} {
		if v := ts.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	return env
}

func lookPath(ts *testscript.TestScript, name string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	ts.Fatalf("%s not found on PATH", name)
	return ""
}

// cmdJUnit reads a JUnit XML report as a JUnit consumer does and prints one
// line per suite and case: `junit FILE`.
//
//	suite NAME tests=N failures=N errors=N
//	case NAME: ok | failure: MESSAGE | error: MESSAGE
func cmdJUnit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: junit FILE")
	}
	type problem struct {
		Message string `xml:"message,attr"`
	}
	var report struct {
		XMLName xml.Name `xml:"testsuites"`
		Tests   int      `xml:"tests,attr"`
		Suites  []struct {
			Name     string  `xml:"name,attr"`
			Tests    int     `xml:"tests,attr"`
			Failures int     `xml:"failures,attr"`
			Errors   int     `xml:"errors,attr"`
			Time     float64 `xml:"time,attr"`
			Cases    []struct {
				Name    string   `xml:"name,attr"`
				Time    float64  `xml:"time,attr"`
				Failure *problem `xml:"failure"`
				Error   *problem `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	dec := xml.NewDecoder(f)
	dec.Strict = true
	ts.Check(dec.Decode(&report))
	for _, s := range report.Suites {
		fmt.Fprintf(ts.Stdout(), "suite %s tests=%d failures=%d errors=%d\n", s.Name, s.Tests, s.Failures, s.Errors)
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				fmt.Fprintf(ts.Stdout(), "case %s: failure: %s\n", c.Name, c.Failure.Message)
			case c.Error != nil:
				fmt.Fprintf(ts.Stdout(), "case %s: error: %s\n", c.Name, c.Error.Message)
			default:
				fmt.Fprintf(ts.Stdout(), "case %s: ok\n", c.Name)
			}
		}
	}
}
