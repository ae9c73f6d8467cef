// Package enginetest runs etcdscript scripts from Go tests, against a real
// etcd server started inside the test process.
//
// A Go program that embeds the engine tests its scripts (and its own Go
// modules) like this:
//
//	func TestSeed(t *testing.T) {
//		out := enginetest.Run(t, `
//			etcd.put("config/mode", "blue")
//			print(etcd.get("config/mode").value)
//		`).MustSucceed(t)
//		if out.Stdout != "blue\n" {
//			t.Errorf("stdout %q", out.Stdout)
//		}
//		resp, _ := out.Client.Get(context.Background(), "config/mode")
//		...
//	}
//
// # Clusters
//
// By default each test gets its own one-member cluster (an
// embedetcd.Server, the server of `etcdscript run --embedded`: started in
// well under a second, reachable through a private unix socket, its data
// in a temporary directory without fsync, removed when the test ends),
// shared by every Run of that test, so that consecutive runs of one test
// see each other's writes and tests never see each other's. Subtests are
// tests of their own.
//
// A package with many tests can share one cluster instead: start it in
// TestMain with embedetcd.Start, close it after m.Run, and pass it to every
// Run with WithCluster. Tests then see each other's keys; give each its own
// prefix, or its own Namespace through WithConfig. WithCluster also takes
// any other Cluster, such as the multi-member clusters of this module's
// tests/etcdtest. WithoutEtcd runs a script with no cluster at all.
//
// Every server must be closed before the process checks for leaked
// goroutines (goleak): the clusters of StartCluster and Run are closed when
// their test ends.
package enginetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/embedetcd"
	"github.com/etcdscript/etcdscript/engine"
)

// DefaultTimeout bounds a run when the engine's Config sets no Timeout, so
// that a script that waits forever fails its test instead of hanging the
// whole go test run.
const DefaultTimeout = 2 * time.Minute

// startTimeout bounds the start of a test's cluster.
const startTimeout = time.Minute

// Cluster is an etcd server or cluster that scripts run against: the
// *embedetcd.Server of StartCluster, or any other that tells its client
// endpoints and TLS settings.
type Cluster interface {
	// Endpoints returns the endpoints of the cluster's members, as
	// client.Config takes them.
	Endpoints() []string
	// ClientTLSConfig returns the TLS configuration of a client, or nil
	// when clients connect without TLS.
	ClientTLSConfig() *tls.Config
}

// Outcome is what a run produced.
type Outcome struct {
	// Stdout and Stderr are what the script wrote (print, io.write, log).
	Stdout, Stderr string
	// Result is the engine's result: the exit code and the main chunk's
	// return values. It is never nil.
	Result *engine.Result
	// Err is the run's error: nil for exit code 0, else usually a
	// *engine.ScriptError.
	Err error
	// Cluster is the cluster the script ran against, nil with WithoutEtcd.
	Cluster Cluster
	// Client is a client of that cluster, open until the test ends, for
	// checking from Go what the script did: the script's default client
	// (without any Namespace set through WithConfig). Nil with WithoutEtcd.
	Client *client.Client
}

// ExitCode returns the run's exit code.
func (o *Outcome) ExitCode() int { return o.Result.ExitCode }

// ScriptError returns the run's *engine.ScriptError, or nil.
func (o *Outcome) ScriptError() *engine.ScriptError {
	se, _ := engine.AsScriptError(o.Err)
	return se
}

// MustSucceed fails the test, reporting the error with its traceback and
// the script's output, unless the run exited with code 0. It returns o, so
// that it chains after Run.
func (o *Outcome) MustSucceed(t testing.TB) *Outcome {
	t.Helper()
	if o.Err == nil && o.Result.ExitCode == 0 {
		return o
	}
	t.Fatalf("script failed with exit code %d: %s%s", o.Result.ExitCode, o.report(), o.output())
	return o
}

// MustFail fails the test unless the run ended with exitCode, and returns
// the run's ScriptError.
func (o *Outcome) MustFail(t testing.TB, exitCode int) *engine.ScriptError {
	t.Helper()
	if o.Result.ExitCode != exitCode {
		t.Fatalf("exit code %d, want %d: %s%s", o.Result.ExitCode, exitCode, o.report(), o.output())
	}
	return o.ScriptError()
}

func (o *Outcome) report() string {
	if se := o.ScriptError(); se != nil {
		return se.Backtrace()
	}
	if o.Err != nil {
		return o.Err.Error()
	}
	return "no error"
}

func (o *Outcome) output() string {
	var b strings.Builder
	if o.Stdout != "" {
		b.WriteString("\n--- stdout:\n" + o.Stdout)
	}
	if o.Stderr != "" {
		b.WriteString("\n--- stderr:\n" + o.Stderr)
	}
	return b.String()
}

// Option changes how Run and RunFile run a script.
type Option func(*settings)

type settings struct {
	configure []func(*engine.Config)
	args      []string
	cluster   Cluster
	noEtcd    bool
	name      string
	ctx       context.Context
}

// WithConfig lets fn adjust the engine's configuration before the run: add
// Modules, set NoSandbox, Timeout, Namespace, LibPaths, Getenv, Stdin. The
// client and the writers are set already; fn may replace them.
func WithConfig(fn func(cfg *engine.Config)) Option {
	return func(s *settings) { s.configure = append(s.configure, fn) }
}

// WithArgs gives the script its arguments (arg[1..n] and ...).
func WithArgs(args ...string) Option {
	return func(s *settings) { s.args = append([]string(nil), args...) }
}

// WithStdin gives the script r as its stdin.
func WithStdin(r io.Reader) Option {
	return WithConfig(func(cfg *engine.Config) { cfg.Stdin = r })
}

// WithCluster runs the script against c instead of the test's own
// cluster. The caller keeps c and closes it.
func WithCluster(c Cluster) Option {
	return func(s *settings) { s.cluster = c }
}

// WithoutEtcd runs the script with no cluster and no client: its first
// etcd call fails.
func WithoutEtcd() Option {
	return func(s *settings) { s.noEtcd = true }
}

// WithName sets the chunk name of a script given to Run (the FILE of its
// error messages and arg[0]); the default is "script.lua".
func WithName(name string) Option {
	return func(s *settings) { s.name = name }
}

// WithContext runs the script under ctx (canceling it interrupts the
// run), instead of a context that ends with the test.
func WithContext(ctx context.Context) Option {
	return func(s *settings) { s.ctx = ctx }
}

// Run runs script, a Lua chunk, in a new engine and returns what happened.
// A failure to set up (the cluster does not start) fails the test; the
// script's own failure does not: check the Outcome, or chain MustSucceed.
func Run(t testing.TB, script string, opts ...Option) *Outcome {
	t.Helper()
	s := settings{name: "script.lua"}
	for _, o := range opts {
		o(&s)
	}
	return run(t, &s, func(ctx context.Context, e *engine.Engine) (*engine.Result, error) {
		return e.RunString(ctx, s.name, script, s.args)
	})
}

// RunFile runs the script at path, as Run does; require looks beside it.
func RunFile(t testing.TB, path string, opts ...Option) *Outcome {
	t.Helper()
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return run(t, &s, func(ctx context.Context, e *engine.Engine) (*engine.Result, error) {
		return e.RunFile(ctx, path, s.args)
	})
}

func run(t testing.TB, s *settings, do func(context.Context, *engine.Engine) (*engine.Result, error)) *Outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfg := engine.Config{Stdout: &stdout, Stderr: &stderr}
	out := &Outcome{}
	if !s.noEtcd {
		c := s.cluster
		if c == nil {
			c = testCluster(t)
		}
		out.Cluster = c
		out.Client = clusterClient(t, c)
		cfg.Client = out.Client
	}
	for _, fn := range s.configure {
		fn(&cfg)
	}
	if cfg.Client != nil && cfg.Connect != nil {
		// WithConfig chose to connect lazily: that replaces our client.
		cfg.Client = nil
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatalf("enginetest: %v", err)
		return nil
	}
	defer e.Close()
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	out.Result, out.Err = do(ctx, e)
	out.Stdout, out.Stderr = stdout.String(), stderr.String()
	return out
}

// perTest holds the cluster and clients of each running test.
var perTest struct {
	mu       sync.Mutex
	clusters map[testing.TB]Cluster
	clients  map[clientKey]*client.Client
}

type clientKey struct {
	t testing.TB
	c Cluster
}

// testCluster returns the test's own cluster, starting it on first use.
func testCluster(t testing.TB) Cluster {
	t.Helper()
	perTest.mu.Lock()
	c, ok := perTest.clusters[t]
	perTest.mu.Unlock()
	if ok {
		return c
	}
	c = StartCluster(t)
	perTest.mu.Lock()
	if perTest.clusters == nil {
		perTest.clusters = map[testing.TB]Cluster{}
	}
	perTest.clusters[t] = c
	perTest.mu.Unlock()
	t.Cleanup(func() {
		perTest.mu.Lock()
		delete(perTest.clusters, t)
		perTest.mu.Unlock()
	})
	return c
}

// StartCluster starts a one-member cluster for t, closed when t ends. It
// is the cluster Run uses by default; call it to share one cluster among
// the subtests of a test through WithCluster.
func StartCluster(t testing.TB) *embedetcd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := embedetcd.Start(ctx, embedetcd.Config{})
	if err != nil {
		t.Fatalf("enginetest: %v", err)
		return nil
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Logf("enginetest: %v", err)
		}
	})
	return s
}

// clusterClient returns a client of c for t, the same one on every call
// of one test, closed when t ends.
func clusterClient(t testing.TB, c Cluster) *client.Client {
	t.Helper()
	perTest.mu.Lock()
	defer perTest.mu.Unlock()
	if perTest.clients == nil {
		perTest.clients = map[clientKey]*client.Client{}
	}
	key := clientKey{t: t, c: c}
	if cli, ok := perTest.clients[key]; ok {
		return cli
	}
	cli, err := NewClient(c)
	if err != nil {
		t.Fatalf("enginetest: client: %v", err)
		return nil
	}
	perTest.clients[key] = cli
	t.Cleanup(func() {
		perTest.mu.Lock()
		delete(perTest.clients, key)
		perTest.mu.Unlock()
		cli.Close()
	})
	return cli
}

// NewClient returns a client of c, with TLS when c serves it. The caller
// closes it.
func NewClient(c Cluster) (*client.Client, error) {
	return client.New(client.Config{
		Endpoints:   c.Endpoints(),
		DialTimeout: 10 * time.Second,
		TLS:         c.ClientTLSConfig(),
	})
}
