package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
)

// DefaultCallTimeout bounds each single etcd call when Config.CallTimeout is
// zero, as the CLI's --command-timeout does.
const DefaultCallTimeout = 5 * time.Second

// DefaultMaxMemory is a run's memory budget when Config.MaxMemory is zero.
const DefaultMaxMemory = 256 << 20

// ErrInvalidConfig is wrapped by the errors New returns for a Config it
// cannot use.
var ErrInvalidConfig = errors.New("engine: invalid config")

// Config configures an Engine. The zero value is usable: a sandboxed engine
// with no etcd cluster (the first etcd call fails), output discarded and no
// input. Every hook is a field here; the engine has no global state.
type Config struct {
	// Client is the default client, the one the etcd module's functions act
	// on. The engine never closes it: it belongs to the host.
	Client *client.Client

	// Connect makes the default client when Client is nil. It is called at
	// the first etcd call of a run, not by New, so an engine (a REPL, say)
	// starts while the cluster is down. A client it returns is kept for
	// later runs and closed by Engine.Close. A failed Connect is tried again
	// at the next call; its error makes the run end with ExitConnect when
	// the script does not catch it.
	Connect func(ctx context.Context) (*client.Client, error)

	// Dial makes the clients of etcd.connect{...} from the configuration
	// the script asked for. Nil means client.New. The engine closes these
	// clients when the run ends; a host can use Dial to add TLS settings,
	// dial options or a logger, or to refuse endpoints.
	Dial func(ctx context.Context, cfg client.Config) (*client.Client, error)

	// Namespace prefixes every key the script uses through the default
	// client, as the CLI's --namespace does, locks and elections included.
	// Keys the script sees come back without it. A Client of the host's is
	// not changed: the engine works through namespaced views of it.
	Namespace string

	// Stdout and Stderr receive print, io.write, io.stdout, io.stderr and
	// the log module. Nil discards. The engine serializes its writes, so
	// one writer may serve both, and runs that share an engine may share
	// them. Progress bars (put_many's progress option, the progress
	// module) draw on Stderr only when it is a terminal: a file such as
	// os.Stderr open on one, or a writer that says so by implementing
	// luart.TerminalWriter.
	Stdout, Stderr io.Writer

	// Stdin is what io.read and io.lines() read. Nil reads as empty.
	//
	// A run's read of Stdin ends when the run's context does, even while
	// Stdin's Read blocks: the engine calls Read on a goroutine of its own,
	// one Read at a time, and a run that stops waiting leaves that Read to
	// finish in the background. What it brings is kept for the engine's
	// next read, so no input is lost between runs. The goroutine ends when
	// Read returns; a Read that never returns (a terminal, a pipe held
	// open) keeps it until then, Close or not: close the writing end of a
	// pipe to end it.
	Stdin io.Reader

	// NoSandbox lets scripts reach the host: io files and io.popen,
	// os.execute, os.remove, os.rename, os.tmpname, os.getenv, loadfile,
	// dofile, the fs module and, without a Getenv hook, the process
	// environment. By default an engine runs scripts sandboxed: they reach
	// nothing outside etcd and the engine's writers (docs/cli.md).
	// The CLI sets it unless --sandbox is given.
	NoSandbox bool

	// Modules are extra modules written in Go. Each is a loader, as for
	// LState.PreloadModule: it pushes the module's value (usually a table)
	// and returns 1. require(name) finds them before any file and before
	// the stdlib. Functions of a module can reach the run through
	// RuntimeOf(L) and should use its context in anything that blocks.
	Modules map[string]lua.LGFunction

	// Timeout bounds the whole run, the main chunk and the event loop after
	// it (the CLI's --timeout). Zero means no bound beyond the context
	// given to the run.
	Timeout time.Duration

	// MaxMemory is the run's memory budget in bytes (the CLI's
	// --max-memory): a run that grows the process heap by more ends with
	// an error of code memory_limit and ExitMemory, which pcall cannot
	// catch, while the host and its other runs go on. Zero means
	// DefaultMaxMemory, a negative value no budget. The package
	// documentation says how the budget is measured and what overshoot is
	// possible.
	MaxMemory int64

	// CallTimeout bounds each single etcd call (--command-timeout); watches,
	// keepalives, locks and etcd.wait are not bound by it. Zero means
	// DefaultCallTimeout, a negative value no bound beyond the run's.
	CallTimeout time.Duration

	// LibPaths are the directories require searches, in order, after the
	// directory of the script and before the stdlib (--lib).
	LibPaths []string

	// LogLevel is the least level the log module writes: debug, info, warn
	// or error. Empty means info.
	LogLevel string

	// Globals are predeclared in every run, converted by LuaValue: data
	// (nil, booleans, numbers, strings, []byte, slices, maps with string
	// keys) and Go functions of type Func, so a host offers a function
	// without touching gopher-lua's stack. They are set after the standard
	// libraries and the etcd module, so a name such as "print" replaces
	// the built-in. New refuses a value that does not convert.
	Globals map[string]any

	// Setup, when set, prepares each run's Lua state after the libraries,
	// the etcd module, Modules and Globals, before the script runs: a test
	// harness installs its globals here (etcdscript test installs test and
	// assert). It runs protected: an error it raises ends the run.
	Setup func(L *lua.LState)

	// Getenv looks up environment variables for the env module (and for
	// os.getenv with NoSandbox). Nil means the process environment with
	// NoSandbox, and no environment at all in a sandbox.
	Getenv func(name string) (string, bool)
}

// logLevels are the levels LogLevel accepts.
var logLevels = []string{"debug", "info", "warn", "error"}

// check reports the first field of c that cannot work, before any run.
func (c *Config) check() error {
	if c.Client != nil && c.Connect != nil {
		return fmt.Errorf("%w: Client and Connect are both set; give one", ErrInvalidConfig)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: Timeout is negative (%v)", ErrInvalidConfig, c.Timeout)
	}
	if c.LogLevel != "" {
		ok := false
		for _, l := range logLevels {
			if strings.EqualFold(c.LogLevel, l) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%w: LogLevel %q is not one of %s", ErrInvalidConfig, c.LogLevel, strings.Join(logLevels, ", "))
		}
	}
	for name, fn := range c.Modules {
		if name == "" {
			return fmt.Errorf("%w: a module in Modules has an empty name", ErrInvalidConfig)
		}
		if fn == nil {
			return fmt.Errorf("%w: module %q in Modules has a nil loader", ErrInvalidConfig, name)
		}
	}
	for name, v := range c.Globals {
		if name == "" {
			return fmt.Errorf("%w: a name in Globals is empty", ErrInvalidConfig)
		}
		if err := checkValue(fmt.Sprintf("Globals[%q]", name), v); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
	}
	for i, p := range c.LibPaths {
		if p == "" {
			return fmt.Errorf("%w: LibPaths[%d] is empty", ErrInvalidConfig, i)
		}
	}
	return nil
}

// callTimeout is the per-call bound the runtime applies.
func (c *Config) callTimeout() time.Duration {
	switch {
	case c.CallTimeout == 0:
		return DefaultCallTimeout
	case c.CallTimeout < 0:
		return 0
	}
	return c.CallTimeout
}

// maxMemory is the budget a run gets, 0 for none.
func (c *Config) maxMemory() int64 {
	switch {
	case c.MaxMemory == 0:
		return DefaultMaxMemory
	case c.MaxMemory < 0:
		return 0
	}
	return c.MaxMemory
}
