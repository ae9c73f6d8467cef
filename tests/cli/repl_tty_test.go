package cli_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestREPLOnATerminal drives `etcdscript repl` as a person at a terminal
// would, through a pseudo-terminal: line editing and history (liner),
// multi-line input, an error, Ctrl-C on a running line and at the prompt,
// Ctrl-D to leave, and the history kept for the next session.
func TestREPLOnATerminal(t *testing.T) {
	c := etcdtest.StartT(t, etcdtest.Options{})
	home := t.TempDir()
	repl := startOnTTY(t, home, "ETCDCTL_ENDPOINTS="+strings.Join(c.Endpoints(), ","))

	repl.expect("Ctrl-D exits")
	repl.expect("> ")
	repl.send("x = 21\r")
	repl.expect("> ")
	repl.send("x * 2\r")
	repl.expect("42")

	// The etcd module, connected at the first call.
	repl.send(`etcd.put("tty", "yes").revision > 0` + "\r")
	repl.expect("true")

	// An incomplete chunk reads more lines, with the continuation prompt.
	repl.send("function f()\r")
	repl.expect(">> ")
	repl.send("return etcd.get('tty').value\r")
	repl.expect(">> ")
	repl.send("end\r")
	repl.expect("> ")
	repl.send("f()\r")
	repl.expect("yes")

	// An error is printed; the session goes on.
	repl.send("error('boom')\r")
	repl.expect("Error: stdin:1: boom")

	// Ctrl-C stops the running line, not the REPL.
	repl.send("print('spinning') while true do end\r")
	// The printed line, not the echo of the typed one: the line runs.
	repl.expect("spinning\r\n")
	repl.send("\x03")
	repl.expect("interrupted by SIGINT")
	repl.send("x + 1\r")
	repl.expect("22")

	// Ctrl-C at the prompt drops what was typed.
	repl.send("this is not lua")
	repl.send("\x03")
	repl.send("x\r")
	repl.expect("21")
	if strings.Contains(repl.output(), "'is'") {
		t.Errorf("the line dropped with Ctrl-C ran:\n%s", repl.output())
	}

	// Up arrow recalls the previous line.
	repl.send("\x1b[A\r")
	repl.expect("21")

	// Ctrl-D at an empty prompt leaves, exit 0.
	repl.send("\x04")
	if err := repl.wait(); err != nil {
		t.Fatalf("repl ended with %v\n%s", err, repl.output())
	}
	hist, err := os.ReadFile(filepath.Join(home, ".etcdscript_history"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hist), "x * 2\n") || strings.Contains(string(hist), "this is not lua") {
		t.Errorf("history file:\n%s", hist)
	}

	// The next session starts with that history, and a cluster that is
	// down does not keep the REPL from starting.
	again := startOnTTY(t, home, "ETCDCTL_ENDPOINTS="+deadEndpoint(t), "ETCDCTL_DIAL_TIMEOUT=500ms")
	again.expect("> ")
	again.send("\x1b[A\x1b[A\r") // two lines back: "x + 1" is older than "x"
	again.expect("Error: stdin:1: ")
	again.expect("cannot perform add operation between nil and number")
	again.send(`etcd.get("k")` + "\r")
	again.expect("connection refused")
	again.send("1 + 1\r")
	again.expect("2")
	again.send("os.exit(3)\r")
	var ee *exec.ExitError
	if err := again.wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("os.exit(3) ended the repl with %v\n%s", err, again.output())
	}

	// SIGTERM stops the running line and ends the REPL: exit 5.
	last := startOnTTY(t, home)
	last.expect("> ")
	last.send("print('spinning') while true do end\r")
	last.expect("spinning\r\n")
	if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := last.wait(); !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Fatalf("SIGTERM ended the repl with %v\n%s", err, last.output())
	}
	last.expect("Error: stdin:1: interrupted by SIGTERM")
	if n := strings.Count(last.output(), "Error: "); n != 1 {
		t.Errorf("%d errors printed, want 1:\n%s", n, last.output())
	}
}

// TestREPLHistoryOnATerminalWithoutSize: on a terminal that reports no
// size, arrow keys still recall history (not "Invalid token near '^['");
// the history file is private (0600, even when it existed as 0644) and
// keeps no line that sets a password, a secret or a token.
func TestREPLHistoryOnATerminalWithoutSize(t *testing.T) {
	home := t.TempDir()
	hist := filepath.Join(home, ".etcdscript_history")
	if err := os.WriteFile(hist, []byte("old = 1\npassword = 'leaked'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(hist, 0o644); err != nil {
		t.Fatal(err)
	}
	repl := startOnTTYSized(t, home, nil, "ETCDCTL_ENDPOINTS="+deadEndpoint(t))
	repl.expect("> ")
	repl.send("print('recalled')\r")
	repl.expect("recalled\r\n")
	repl.send("password = 'hunter2'\r")
	repl.expect("> ")
	repl.send(`c = etcd.connect{endpoints = {"127.0.0.1:1"}, username = "u", password = "p"}` + "\r")
	repl.expect("> ")
	repl.send("api_token = 'x'\r")
	repl.expect("> ")
	repl.send("\x1b[A\r") // the up arrow: the last line kept
	repl.expect("recalled\r\n")
	repl.send("\x04")
	if err := repl.wait(); err != nil {
		t.Fatalf("repl ended with %v\n%s", err, repl.output())
	}
	if strings.Contains(repl.output(), "Invalid token") {
		t.Errorf("an arrow key reached Lua:\n%s", repl.output())
	}
	fi, err := os.Stat(hist)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "leaked", "password", "api_token", "\x1b"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the history file keeps %q:\n%s", secret, data)
		}
	}
	if !strings.Contains(string(data), "old = 1\n") || !strings.Contains(string(data), "print('recalled')\n") {
		t.Errorf("the history file lost lines:\n%s", data)
	}
}

// tty is a command running on a pseudo-terminal.
type tty struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File

	mu   sync.Mutex
	out  bytes.Buffer
	mark int // expect looks after this offset
	done chan struct{}
}

// startOnTTY starts `etcdscript repl` with the pseudo-terminal as its
// controlling terminal, stdin, stdout and stderr.
func startOnTTY(t *testing.T, home string, env ...string) *tty {
	t.Helper()
	return startOnTTYSized(t, home, &unix.Winsize{Row: 24, Col: 80}, env...)
}

// startOnTTYSized is startOnTTY on a terminal of size ws; nil leaves the
// size unset (0x0), as on a serial console.
func startOnTTYSized(t *testing.T, home string, ws *unix.Winsize, env ...string) *tty {
	t.Helper()
	return startTTY(t, home, ws, []string{"repl"}, env...)
}

// startTTY starts etcdscript with args on a pseudo-terminal of size ws
// (none when nil), as its controlling terminal, stdin, stdout and stderr.
func startTTY(t *testing.T, home string, ws *unix.Winsize, args []string, env ...string) *tty {
	t.Helper()
	bin, err := exec.LookPath("etcdscript")
	if err != nil {
		t.Fatal(err)
	}
	master, slave, err := openPTY(ws)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm"}, env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	tt := &tty{t: t, cmd: cmd, master: master, done: make(chan struct{})}
	go func() {
		defer close(tt.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			tt.mu.Lock()
			tt.out.Write(buf[:n])
			tt.mu.Unlock()
			if err != nil {
				return // EIO once the command and its terminal are gone
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		master.Close()
		<-tt.done
	})
	return tt
}

func (tt *tty) send(s string) {
	tt.t.Helper()
	if _, err := tt.master.WriteString(s); err != nil {
		tt.t.Fatalf("writing to the terminal: %v", err)
	}
}

// expect waits for s in the output after what earlier expects matched.
func (tt *tty) expect(s string) {
	tt.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		tt.mu.Lock()
		out := tt.out.String()
		if i := strings.Index(out[tt.mark:], s); i >= 0 {
			tt.mark += i + len(s)
			tt.mu.Unlock()
			return
		}
		tt.mu.Unlock()
		select {
		case <-tt.done:
			tt.t.Fatalf("the terminal closed before %q appeared:\n%s", s, out)
		default:
		}
		if time.Now().After(deadline) {
			tt.t.Fatalf("%q did not appear:\n%s", s, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tt *tty) output() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.out.String()
}

// wait waits for the command to exit, and for the reader to have taken
// all it wrote: the terminal still holds output the command wrote just
// before it exited (the last frames of a progress bar, say), which the
// reader gets before the end of the terminal.
func (tt *tty) wait() error {
	errc := make(chan error, 1)
	go func() { errc <- tt.cmd.Wait() }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(time.Minute):
		tt.cmd.Process.Kill()
		<-errc
		return errors.New("still running after a minute")
	}
	select {
	case <-tt.done:
	case <-time.After(10 * time.Second):
		// A process the command started still holds the terminal.
	}
	return err
}

// openPTY opens a pseudo-terminal pair (/dev/ptmx) with a window of size
// ws (none when nil).
func openPTY(ws *unix.Winsize) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if ws == nil {
		return master, slave, nil
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
