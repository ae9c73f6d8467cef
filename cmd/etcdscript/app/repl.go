package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/peterh/liner"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Prompts of the REPL, as lua's: a new chunk, and the next line of an
// incomplete one.
const (
	promptFirst = "> "
	promptMore  = ">> "
)

// historyFile is the REPL's history in the home directory.
const historyFile = ".etcdscript_history"

func replCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:  "repl",
		Usage: "interactive Lua with the etcd module",
		Description: "Reads Lua a line at a time, with line editing and history on a terminal.\n" +
			"An expression prints its values (also `= expr`; as JSON lines with -w json,\n" +
			"which sends what chunks print to stderr); an incomplete statement reads\n" +
			"more lines; an error is printed and the session goes on. Ctrl-C cancels\n" +
			"the running line, Ctrl-D (end of input) exits.\n" +
			"etcd is reached at the first call, so the REPL starts while it is down.\n" +
			"History is kept in ~/.etcdscript_history (mode 0600), without the lines that\n" +
			"set a password, a secret or a token.",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("repl takes no arguments")
			}
			return runREPL(c, p)
		},
	}
}

// replInput reads the lines of a REPL.
type replInput interface {
	// ReadLine returns a line without its newline; io.EOF at the end,
	// errAborted when the person pressed Ctrl-C at the prompt.
	ReadLine(prompt string) (string, error)
	// Remember adds a line to the history.
	Remember(line string)
	Close() error
}

var errAborted = errors.New("aborted")

func runREPL(c *cli.Context, p Process) error {
	format, err := writeOut(c)
	if err != nil {
		return err
	}
	interactive := isTerminal(p.Stdin) && isTerminal(p.Stdout)
	sigs, stopSigs := replSignals(p)
	defer stopSigs()

	ctx, cancelStart := context.WithCancel(context.Background())
	// With -w json stdout carries the JSON lines alone, as with run, so
	// that a piped session can feed jq; what the chunks print goes to
	// stderr.
	stdout := p.Stdout
	if format == "json" {
		stdout = p.Stderr
	}
	e, closeEngine, err := newEngine(ctx, c, p, nil, stdout)
	cancelStart()
	if err != nil {
		return err
	}
	defer closeEngine()
	sess, err := e.NewSession("stdin", ".")
	if err != nil {
		return err
	}
	defer sess.Close()

	var in replInput
	if interactive {
		in = newLinerInput()
		fmt.Fprintf(p.Stdout, "etcdscript %s (Lua 5.1): etcd at %s, reached at the first call.\nCtrl-C cancels a running line, Ctrl-D exits.\n",
			Version, endpointsLabel(c))
	} else {
		in = &plainInput{r: bufio.NewReader(p.Stdin)}
	}
	defer in.Close()

	r := &repl{p: p, sess: sess, in: in, sigs: sigs, interactive: interactive, json: format == "json", hex: c.Bool(flagHex)}
	return r.loop()
}

type repl struct {
	p           Process
	sess        *engine.Session
	in          replInput
	sigs        <-chan os.Signal
	interactive bool
	json, hex   bool // -w json: values as JSON lines, --hex strings as hex
}

// loop reads and runs chunks until the input ends (exit 0), a chunk calls
// os.exit(n) (exit n) or SIGTERM arrives (exit 5).
func (r *repl) loop() error {
	var chunk []string
	for {
		prompt := promptFirst
		if len(chunk) > 0 {
			prompt = promptMore
		}
		line, err := r.read(prompt)
		switch {
		case errors.Is(err, errAborted):
			chunk = nil
			continue
		case errors.Is(err, io.EOF):
			if r.interactive {
				fmt.Fprintln(r.p.Stdout)
			}
			if len(chunk) > 0 {
				fmt.Fprintln(r.p.Stderr, "Error: stdin: the input ended inside an incomplete chunk")
			}
			return nil
		case err != nil:
			return err
		}
		if len(chunk) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		r.in.Remember(line)
		chunk = append(chunk, line)
		res, term, err := r.eval(strings.Join(chunk, "\n"))
		if errors.Is(err, engine.ErrIncomplete) {
			continue
		}
		chunk = nil
		if res != nil && res.Exited {
			if res.ExitCode == 0 {
				return nil
			}
			return &exitError{code: res.ExitCode}
		}
		if err != nil {
			fmt.Fprintf(r.p.Stderr, "Error: %s\n", r.describe(err))
		} else if r.json {
			if len(res.Values) > 0 {
				if err := writeValuesJSON(r.p.Stdout, res.Values, r.hex); err != nil {
					fmt.Fprintf(r.p.Stderr, "Error: %v\n", err)
				}
			}
		} else if len(res.Text) > 0 {
			fmt.Fprintln(r.p.Stdout, strings.Join(res.Text, "\t"))
		}
		if term != nil {
			if err != nil {
				return &exitError{code: ExitInterrupted} // printed above
			}
			return &exitError{code: ExitInterrupted, err: term}
		}
	}
}

// read reads a line; SIGTERM while waiting ends the REPL, SIGINT is
// ignored there (the terminal's Ctrl-C reaches the prompt as a key).
func (r *repl) read(prompt string) (string, error) {
	type got struct {
		line string
		err  error
	}
	done := make(chan got, 1)
	go func() {
		line, err := r.in.ReadLine(prompt)
		done <- got{line, err}
	}()
	for {
		select {
		case g := <-done:
			return g.line, g.err
		case s := <-r.sigs:
			if s == syscall.SIGTERM {
				return "", &exitError{code: ExitInterrupted, err: &interrupted{sig: s}}
			}
		}
	}
}

// eval runs one chunk; SIGINT or SIGTERM cancels it. term is the SIGTERM
// that arrived, which ends the REPL after the chunk.
func (r *repl) eval(src string) (res *engine.EvalResult, term *interrupted, err error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case s := <-r.sigs:
			sig := &interrupted{sig: s}
			if s == syscall.SIGTERM {
				term = sig
			}
			cancel(sig)
		case <-stop:
		}
	}()
	res, err = r.sess.Eval(ctx, src)
	close(stop)
	wg.Wait()
	if se, ok := engine.AsScriptError(err); ok && se.Kind == engine.KindCanceled {
		var sig *interrupted
		if errors.As(context.Cause(ctx), &sig) {
			err = fmt.Errorf("%s", strings.TrimSuffix(se.Error(), se.Message)+"interrupted by "+signalName(sig.sig))
		}
	}
	return res, term, err
}

// describe formats an error of a chunk: position and message, no
// traceback (the chunk is on the screen).
func (r *repl) describe(err error) string {
	if se, ok := engine.AsScriptError(err); ok {
		return se.Error()
	}
	return err.Error()
}

// replSignals delivers SIGINT and SIGTERM to the REPL.
func replSignals(p Process) (<-chan os.Signal, func()) {
	if p.Signals != nil {
		return p.Signals, func() {}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	return ch, func() { signal.Stop(ch) }
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

func endpointsLabel(c *cli.Context) string {
	if c.Bool(flagEmbedded) {
		return "an embedded server"
	}
	return strings.Join(c.StringSlice(flagEndpoints), ",")
}

// plainInput reads lines from a pipe or a file: no prompts, no history.
type plainInput struct{ r *bufio.Reader }

func (in *plainInput) ReadLine(string) (string, error) {
	line, err := in.r.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (in *plainInput) Remember(string) {}
func (in *plainInput) Close() error    { return nil }

// linerInput edits lines on the terminal, with a history kept in the
// home directory.
type linerInput struct {
	st      *liner.State
	history string
}

func newLinerInput() *linerInput {
	ensureTerminalWidth(int(os.Stdout.Fd()))
	in := &linerInput{st: liner.NewLiner()}
	in.st.SetCtrlCAborts(true)
	in.st.SetMultiLineMode(true)
	if home, err := os.UserHomeDir(); err == nil {
		in.history = filepath.Join(home, historyFile)
		// Line by line, so that credentials an older release saved are
		// dropped too.
		if data, err := os.ReadFile(in.history); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				in.Remember(line)
			}
		}
	}
	return in
}

func (in *linerInput) ReadLine(prompt string) (string, error) {
	line, err := in.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errAborted
	}
	// Where liner cannot edit (a terminal it does not know), keys such as
	// the arrows arrive as escape sequences inside the line.
	return stripEscapes(line), err
}

// Remember adds line to the history, unless it is empty or looks like it
// holds a credential: the history file outlives the session.
func (in *linerInput) Remember(line string) {
	if strings.TrimSpace(line) == "" || credentialLine.MatchString(line) {
		return
	}
	in.st.AppendHistory(line)
}

func (in *linerInput) Close() error {
	if in.history != "" {
		if f, err := os.OpenFile(in.history, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
			// A file made by an older release may be readable by others.
			f.Chmod(0o600)
			in.st.WriteHistory(f)
			f.Close()
		}
	}
	return in.st.Close()
}

// credentialLine matches lines that set a password, a secret or a token
// (password = "x", token: "y", --password=z), and etcd.connect calls with
// credentials.
var credentialLine = regexp.MustCompile(`(?i)(pass(word|wd)?|secret|token|credential)s?["'\]]*\s*[=:]|etcd\.connect.*(pass|user)`)

// escapeSeq matches terminal escape sequences: CSI (ESC [ ... final
// byte), SS3 (ESC O x), and any other ESC with the byte after it.
var escapeSeq = regexp.MustCompile("\x1b(\\[[0-9;?]*[ -/]*[@-~]|O.|.?)")

func stripEscapes(line string) string {
	if !strings.Contains(line, "\x1b") {
		return line
	}
	return escapeSeq.ReplaceAllString(line, "")
}
