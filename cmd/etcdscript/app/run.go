package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
)

func runCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a Lua script (- reads it from stdin)",
		ArgsUsage: "FILE|- [ARGS...]",
		Description: "The script gets ARGS as arg[1..n] and as the main chunk's `...`; arg[0] is FILE.\n" +
			"With -e CHUNK the chunk is the script, every argument is an ARG, and arg[0] is -e.\n" +
			"Global flags may come before or after `run`; everything after FILE is the script's.\n" +
			"With -w json the script's return values are printed as JSON: one value as itself,\n" +
			"several as an array, none as null (--hex writes strings as hex); stdout then holds\n" +
			"only that JSON, and print and io.write go to stderr.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagChunk, Usage: "run `CHUNK` as the script, e.g. -e 'print(etcd.get(\"k\").value)'"},
		},
		Action: func(c *cli.Context) error {
			if c.IsSet(flagChunk) {
				return runScript(c, p, chunkName, c.Args().Slice())
			}
			if c.NArg() < 1 {
				return usageErrorf("run needs a script file (or - for stdin, or -e CHUNK)")
			}
			return runScript(c, p, c.Args().First(), c.Args().Tail())
		},
	}
}

// flagChunk is run's -e; chunkName is the chunk's name and arg[0].
const (
	flagChunk = "e"
	chunkName = "-e"
)

func runScript(c *cli.Context, p Process, file string, args []string) error {
	format, err := writeOut(c)
	if err != nil {
		return err
	}
	var src []byte
	if file == chunkName {
		src = []byte(c.String(flagChunk))
	} else if file == "-" {
		if src, err = io.ReadAll(p.Stdin); err != nil {
			return &ioError{what: "reading the script from stdin", err: err}
		}
	} else if fi, err := os.Stat(file); err != nil {
		return &ioError{what: "script", err: err}
	} else if fi.IsDir() {
		return &ioError{what: "script", err: errors.New(file + " is a directory")}
	}

	ctx, stop := signalContext(p)
	defer stop()
	stdin := p.Stdin
	if file == "-" {
		stdin = nil // the script was the input
	}
	// With -w json stdout carries the JSON document alone, so that it can
	// be piped to jq; what the script prints goes to stderr.
	stdout := p.Stdout
	if format == "json" {
		stdout = p.Stderr
	}
	e, closeEngine, err := newEngine(ctx, c, p, stdin, stdout)
	if err != nil {
		return interruptedOr(ctx, err)
	}
	defer closeEngine()

	var res *engine.Result
	if file == "-" || file == chunkName {
		res, err = e.RunString(ctx, file, string(src), args)
	} else {
		res, err = e.RunFile(ctx, file, args)
	}
	if err != nil {
		if se, ok := engine.AsScriptError(err); ok && se.GoStack != "" && c.Bool(flagDebug) {
			// A bug of ours: the Go stack is for whoever debugs it.
			fmt.Fprintf(p.Stderr, "Go stack of the panic (--debug):\n%s\n", se.GoStack)
		}
		return scriptFailure(ctx, err, file, src)
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	if format == "json" {
		return writeValuesJSON(p.Stdout, res.Values, c.Bool(flagHex))
	}
	return nil
}

// writeOut returns the --write-out format, which run and repl know as
// simple or json.
func writeOut(c *cli.Context) (string, error) {
	switch f := c.String(flagWriteOut); f {
	case "simple", "json":
		return f, nil
	default:
		return "", usageErrorf("--write-out %q: want simple or json", f)
	}
}

// newEngine makes the engine of run and repl from the global flags: the
// default client is made at the first etcd call; --embedded starts its
// server first. close releases both. The script's print and io.write go
// to stdout.
func newEngine(ctx context.Context, c *cli.Context, p Process, stdin io.Reader, stdout io.Writer) (*engine.Engine, func(), error) {
	if c.String(flagDataDir) != "" && !c.Bool(flagEmbedded) {
		return nil, nil, usageErrorf("--data-dir needs --embedded")
	}
	cfg, err := clientConfig(c, p)
	if err != nil {
		return nil, nil, err
	}
	var cleanup []func()
	closeAll := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	if c.Bool(flagEmbedded) {
		eps, stopEtcd, err := startEmbedded(ctx, c, p)
		if err != nil {
			return nil, nil, err
		}
		cleanup = append(cleanup, stopEtcd)
		cfg.Endpoints = eps
		cfg.TLS = nil
	}
	if c.Bool(flagDebug) {
		lg := debugLogger(p.Stderr)
		cfg.Logger = lg
		logSettings(lg, c)
		if c.Bool(flagEmbedded) {
			lg.Debug("etcdscript: embedded etcd", zap.Strings("endpoints", cfg.Endpoints),
				zap.String("etcdctl", "etcdctl --endpoints="+strings.Join(cfg.Endpoints, ",")))
		}
	}
	callTimeout := c.Duration(flagCommandTimeout)
	if callTimeout == 0 {
		callTimeout = -1 // --command-timeout=0: no bound of its own
	}
	ecfg := engine.Config{
		Connect:     connector(cfg),
		Namespace:   c.String(flagNamespace),
		Stdout:      stdout,
		Stderr:      p.Stderr,
		Stdin:       stdin,
		NoSandbox:   !c.Bool(flagSandbox),
		Timeout:     c.Duration(flagTimeout),
		CallTimeout: callTimeout,
		LibPaths:    c.StringSlice(flagLib),
		LogLevel:    c.String(flagLogLevel),
	}
	if ecfg.NoSandbox {
		ecfg.Getenv = p.LookupEnv
	}
	if lg := cfg.Logger; lg != nil {
		// etcd.connect{...} clients log too under --debug.
		ecfg.Dial = func(_ context.Context, cc client.Config) (*client.Client, error) {
			cc.Logger = lg
			return client.New(cc)
		}
	}
	if ecfg.Timeout < 0 {
		closeAll()
		return nil, nil, usageErrorf("--timeout must not be negative")
	}
	if ecfg.MaxMemory, err = maxMemory(c); err != nil {
		closeAll()
		return nil, nil, err
	}
	e, err := engine.New(ecfg)
	if err != nil {
		closeAll()
		if errors.Is(err, engine.ErrInvalidConfig) {
			return nil, nil, usageErrorf("%v", strings.TrimPrefix(err.Error(), engine.ErrInvalidConfig.Error()+": "))
		}
		return nil, nil, err
	}
	cleanup = append(cleanup, func() { e.Close() })
	return e, closeAll, nil
}

// scriptFailure turns a run's error into what the command prints and
// exits with: the error at its position, a traceback for an error the
// script raised, nothing more for os.exit(n).
func scriptFailure(ctx context.Context, err error, file string, src []byte) error {
	se, ok := engine.AsScriptError(err)
	if !ok {
		return err
	}
	switch se.Kind {
	case engine.KindExit:
		return &exitError{code: se.ExitCode}
	case engine.KindIO:
		return &exitError{code: se.ExitCode, err: errors.New(se.Message)}
	case engine.KindSyntax:
		return &exitError{code: se.ExitCode, err: errors.New(problem(se, file, src))}
	case engine.KindCanceled:
		msg := se.Error()
		var sig *interrupted
		if errors.As(context.Cause(ctx), &sig) {
			msg = strings.TrimSuffix(msg, se.Message) + "interrupted by " + signalName(sig.sig)
		}
		return &exitError{code: se.ExitCode, err: errors.New(msg)}
	case engine.KindTimeout, engine.KindMemory:
		return &exitError{code: se.ExitCode, err: errors.New(se.Error())}
	}
	if se.ExitCode == ExitConnect {
		// Where the script was when nothing answered is all that matters.
		return &exitError{code: se.ExitCode, err: errors.New(se.Error())}
	}
	return &exitError{code: se.ExitCode, err: errors.New(se.Backtrace())}
}

// problem formats a syntax error as FILE:LINE: message. The parser gives
// no line for an error at the end of the file; the last line stands in.
func problem(se *engine.ScriptError, file string, src []byte) string {
	if se.File == "" || se.Line > 0 {
		return se.Error()
	}
	if src == nil && file != "-" {
		src, _ = os.ReadFile(file)
	}
	line := strings.Count(string(src), "\n")
	if len(src) > 0 && src[len(src)-1] != '\n' {
		line++
	}
	return se.File + ":" + strconv.Itoa(max(line, 1)) + ": " + se.Message
}

// interruptedOr returns err, or the interruption that caused it.
func interruptedOr(ctx context.Context, err error) error {
	var sig *interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return &exitError{code: ExitInterrupted, err: sig}
	}
	return err
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// sizeUnits are the suffixes --max-memory takes, powers of 1024 or 1000.
var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseSize reads a size such as 512MiB, 1.5GiB, 100MB or 1048576 (bytes).
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) || n*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (such as 512MiB, 1GiB, or a number of bytes; 0 for none)", s)
	}
	return int64(n * mult), nil
}

// maxMemory is --max-memory as engine.Config.MaxMemory: 0 there means the
// engine's default, so --max-memory 0 (no budget) becomes -1.
func maxMemory(c *cli.Context) (int64, error) {
	n, err := parseSize(c.String(flagMaxMemory))
	if err != nil {
		return 0, usageErrorf("--max-memory: %v", err)
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}
