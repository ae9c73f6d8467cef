package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/etcdscript/etcdscript/client"
	"github.com/urfave/cli/v2"
)

// Process is the state of the process the command runs in; main passes the
// real one, tests their own.
type Process struct {
	Args      []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	LookupEnv func(string) (string, bool)
	// Signals, when set, receives SIGINT and SIGTERM; nil means the real
	// process signals.
	Signals <-chan os.Signal
}

// Main runs the command and returns the process exit code. Every outcome is
// mapped to a code in one place, exitCode; every error is printed once, as
// "Error: ..." on stderr.
func Main(p Process) int {
	if p.LookupEnv == nil {
		p.LookupEnv = os.LookupEnv
	}
	dropEmptyEnv()
	app := newApp(p)
	if isCompletion(p.Args) {
		complete(app, p.Args[1:len(p.Args)-1], p.Stdout)
		return ExitOK
	}
	err := app.Run(hoistGlobalFlags(app, p.Args))
	code := exitCode(err)
	if err != nil {
		if e, ok := asExit(err); !ok || e.err != nil {
			fmt.Fprintf(p.Stderr, "Error: %v\n", err)
		}
		var ue *usageError
		if errors.As(err, &ue) && ue.hint != "" {
			fmt.Fprintln(p.Stderr, ue.hint)
		}
	}
	return code
}

func newApp(p Process) *cli.App {
	return &cli.App{
		Name:        "etcdscript",
		Usage:       "run Lua scripts against etcd",
		Version:     Version,
		HideVersion: true,
		Reader:      p.Stdin,
		Writer:      p.Stdout,
		ErrWriter:   p.Stderr,
		Flags:       globalFlags(),
		// Completion requests never reach urfave/cli: Main answers them.
		EnableBashCompletion: false,
		Suggest:              true,
		// urfave/cli would call os.Exit itself; Main maps errors instead.
		ExitErrHandler: func(*cli.Context, error) {},
		Before:         applyConfigFile,
		OnUsageError:   onUsageError,
		Commands: withUsageErrors([]*cli.Command{
			runCommand(p),
			checkCommand(p),
			replCommand(p),
			versionCommand(p),
			completionCommand(p),
			typesCommand(p),
			migrateCommand(p),
			testCommand(p),
		}),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("unknown command %q", c.Args().First()), hint: usageHint(c)}
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// withUsageErrors gives every command the app's handling of flag errors;
// urfave/cli would otherwise print the whole help on stdout. A command
// without subcommands gets no "help" subcommand either, which would show
// in its help and its completions as if it had some.
func withUsageErrors(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		if len(c.Subcommands) == 0 {
			c.HideHelpCommand = true
		}
		withUsageErrors(c.Subcommands)
	}
	return cmds
}

// onUsageError turns urfave/cli's flag errors into a usageError (exit 128)
// with a message that says what to type and one line of usage.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return &usageError{msg: flagErrorMessage(c, err), hint: usageHint(c)}
}

// invalidValue matches the flag package's "invalid value" error.
var invalidValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([^:]+): (.*)$`)

// flagErrorMessage rewrites the flag package's errors in the flags' own
// spelling (--timeout, not -timeout), and says what a duration looks like:
// the flag package only says "parse error".
func flagErrorMessage(c *cli.Context, err error) string {
	msg := err.Error()
	m := invalidValue.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	value, name, why := m[1], m[2], m[3]
	if isDurationFlag(c, name) {
		if _, perr := strconv.ParseFloat(value, 64); perr == nil {
			why = "a duration needs a unit, e.g. " + value + "s"
		} else {
			why = "not a duration, e.g. 5s, 1m30s or 500ms"
		}
	}
	return fmt.Sprintf("invalid value %q for --%s: %s", value, name, why)
}

func isDurationFlag(c *cli.Context, name string) bool {
	var flags []cli.Flag
	if c.Command != nil {
		flags = append(flags, c.Command.Flags...)
	}
	flags = append(flags, c.App.Flags...)
	for _, f := range flags {
		if _, ok := f.(*cli.DurationFlag); ok && slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// usageHint is the one line of usage printed after a bad command line.
func usageHint(c *cli.Context) string {
	if c.Command == nil || c.Command.HelpName == "" || c.Command.HelpName == c.App.Name {
		return fmt.Sprintf("usage: %s [flags] COMMAND [ARGS...] (see %[1]s --help)", c.App.Name)
	}
	line := c.Command.HelpName + " [flags]"
	if !c.Command.HideHelpCommand {
		line += " COMMAND"
	}
	if c.Command.ArgsUsage != "" {
		line += " " + c.Command.ArgsUsage
	}
	return fmt.Sprintf("usage: %s (see %s --help)", line, c.Command.HelpName)
}

// dropEmptyEnv unsets the flags' environment variables that are set but
// empty. urfave/cli would take ETCDSCRIPT_ENDPOINTS= as an empty list, and
// let it hide ETCDCTL_ENDPOINTS and the config file; etcdctl ignores empty
// variables, and so does etcdscript.
func dropEmptyEnv() {
	for _, f := range globalFlags() {
		ef, ok := f.(interface{ GetEnvVars() []string })
		if !ok {
			continue
		}
		for _, name := range ef.GetEnvVars() {
			if v, set := os.LookupEnv(name); set && v == "" {
				os.Unsetenv(name)
			}
		}
	}
}

// exitCode maps an outcome to the exit codes of docs/cli.md.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		ue *usageError
		ie *ioError
		ce *connectError
		cc *client.ConnectError
	)
	if e, ok := asExit(err); ok {
		return e.code
	}
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ie):
		return ExitIO
	case errors.As(err, &ce), errors.As(err, &cc):
		return ExitConnect
	}
	if isFlagError(err) {
		return ExitUsage
	}
	return ExitScriptError
}

// isFlagError recognises urfave/cli's own parse errors, which it does not
// type: unknown flags and bad flag values.
func isFlagError(err error) bool {
	var re cli.ExitCoder
	if errors.As(err, &re) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"flag provided but not defined", "invalid value", "flag needs an argument", "Required flag"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// signalContext ends when the process is interrupted. After the first
// signal the process's own handling is back, so that a second Ctrl-C ends
// a script that does not stop.
func signalContext(p Process) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := p.Signals
	var stop func()
	if sigs == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		sigs = ch
		stop = func() { signal.Stop(ch) }
	}
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(&interrupted{sig: s})
			if stop != nil {
				stop()
			}
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		if stop != nil {
			stop()
		}
		cancel(nil)
	}
}

// interrupted is the cause of a context ended by a signal: exit 5.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return "interrupted by " + signalName(e.sig) }
