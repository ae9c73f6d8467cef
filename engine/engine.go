package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/luart"
)

// ErrClosed is returned by runs started after Engine.Close.
var ErrClosed = errors.New("engine: closed")

// Engine runs scripts. It holds what runs share: the configuration, the
// default client and the cache of compiled chunks. Each run gets a fresh Lua
// state on the goroutine that calls RunFile or RunString; any number of runs
// may go on at once on different goroutines.
type Engine struct {
	cfg    Config
	chunks *chunkCache
	stdin  *stdinReader // Config.Stdin, read by runs through their context
	stdout io.Writer
	stderr io.Writer

	// connMu serializes Connect, so that concurrent first calls make one
	// client.
	connMu sync.Mutex
	mu     sync.Mutex
	conn   *client.Client // made by cfg.Connect; closed by Close
	closed bool
}

// New returns an engine for cfg. It checks the configuration and connects
// to nothing: the default client is made (through Config.Connect) at the
// first etcd call of a run.
func New(cfg Config) (*Engine, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.Modules = maps.Clone(cfg.Modules)
	cfg.LibPaths = append([]string(nil), cfg.LibPaths...)
	e := &Engine{cfg: cfg, chunks: newChunkCache()}
	if cfg.Stdin != nil {
		e.stdin = newStdinReader(cfg.Stdin)
	}
	// One lock for both writers: they are often the same writer (a
	// terminal, a test's buffer), and a script's goroutine may write to one
	// while a module's goroutine writes to the other.
	var mu sync.Mutex
	e.stdout = newLockedWriter(&mu, cfg.Stdout)
	e.stderr = newLockedWriter(&mu, cfg.Stderr)
	return e, nil
}

// Close closes the client the engine made through Config.Connect, if any.
// Runs still going on lose their default client; later runs fail with
// ErrClosed. The host's own Config.Client is left open. Close is
// idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.conn != nil {
		err := e.conn.Close()
		e.conn = nil
		if err != nil {
			return fmt.Errorf("engine: closing the default client: %w", err)
		}
	}
	return nil
}

// RunFile runs the script at path with arguments args, on the calling
// goroutine: arg[0] is path, arg[1..n] are args, and args are also the
// main chunk's `...`. require looks beside the script first.
//
// The result is never nil: its ExitCode says how the run ended. The error
// is nil when the exit code is 0, and otherwise a *ScriptError (for a
// script that could not be read, did not compile, raised an uncaught error,
// timed out, was canceled or called os.exit(n) with n != 0). Only a nil
// context or a closed engine give another error.
func (e *Engine) RunFile(ctx context.Context, path string, args []string) (*Result, error) {
	if err := e.usable(ctx); err != nil {
		return &Result{ExitCode: ExitError}, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		se := &ScriptError{Kind: KindIO, Message: "cannot read script: " + err.Error(), ExitCode: ExitIO, cause: err}
		return &Result{ExitCode: ExitIO}, se
	}
	return e.run(ctx, path, filepath.Dir(path), src, args)
}

// RunString runs the script src as RunFile runs a file. name is its chunk
// name, the FILE of error messages and arg[0] (the CLI uses "-" for a
// script read from stdin). A string has no directory of its own: require
// searches LibPaths and the stdlib only.
func (e *Engine) RunString(ctx context.Context, name, src string, args []string) (*Result, error) {
	if err := e.usable(ctx); err != nil {
		return &Result{ExitCode: ExitError}, err
	}
	if name == "" {
		name = "<string>"
	}
	return e.run(ctx, name, "", []byte(src), args)
}

// Check compiles the script at path without running it, as
// `etcdscript check` does: nil, or a *ScriptError of kind syntax (exit code
// 3) or io (6).
func (e *Engine) Check(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return &ScriptError{Kind: KindIO, Message: "cannot read script: " + err.Error(), ExitCode: ExitIO, cause: err}
	}
	if _, err := e.chunks.compile(path, src); err != nil {
		return syntaxError(err)
	}
	return nil
}

func (e *Engine) usable(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("engine: nil context: %w", client.ErrInvalidArgument)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	return nil
}

// defaultClient returns the client etcd.* calls go to, connecting through
// Config.Connect on first use.
func (e *Engine) defaultClient(ctx context.Context) (*client.Client, error) {
	if e.cfg.Client != nil {
		return e.cfg.Client, nil
	}
	if e.cfg.Connect == nil {
		return nil, errNoClient
	}
	e.connMu.Lock()
	defer e.connMu.Unlock()
	e.mu.Lock()
	cli, closed := e.conn, e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if cli != nil {
		return cli, nil
	}
	cli, err := e.cfg.Connect(ctx)
	if err != nil {
		return nil, &connectError{err: err}
	}
	if cli == nil {
		return nil, &connectError{err: errors.New("Config.Connect returned no client and no error")}
	}
	if ns := e.cfg.Namespace; ns != "" {
		// The client is the engine's own: namespacing the client itself,
		// as clientv3 programs do, covers every API that goes through its
		// KV, Watcher and Lease (locks and elections included).
		cli.KV = namespace.NewKV(cli.KV, ns)
		cli.Watcher = namespace.NewWatcher(cli.Watcher, ns)
		cli.Lease = namespace.NewLease(cli.Lease, ns)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		cli.Close()
		return nil, ErrClosed
	}
	e.conn = cli
	return cli, nil
}

// errNoClient is the error of an etcd call in an engine with neither
// Config.Client nor Config.Connect.
var errNoClient = errors.New("no etcd client: the engine has neither Config.Client nor Config.Connect")

// connectError is a failure of Config.Connect. It classifies as
// unavailable, and uncaught it ends the run with ExitConnect.
type connectError struct{ err error }

func (e *connectError) Error() string { return "connect: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// lockedWriter serializes writes to a host writer.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func newLockedWriter(mu *sync.Mutex, w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &lockedWriter{mu: mu, w: w}
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// TerminalFd passes on whether the host's writer is a terminal, which the
// wrapper would otherwise hide: progress bars draw only on a terminal.
func (w *lockedWriter) TerminalFd() (uintptr, bool) { return luart.TerminalFd(w.w) }
