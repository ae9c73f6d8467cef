package migrate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/migrate"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

type env struct {
	t   *testing.T
	cl  *etcdtest.Cluster
	cli *client.Client
	dir string
	ctx context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cl := etcdtest.StartT(t, etcdtest.Options{})
	cli, err := client.New(client.Config{Endpoints: cl.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, cl: cl, cli: cli, dir: t.TempDir(), ctx: ctx}
}

func (e *env) write(name, src string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// runner returns a Runner over its own client and Lua executor; log
// collects its progress lines.
func (e *env) runner(cfg migrate.Config) (*migrate.Runner, *bytes.Buffer) {
	e.t.Helper()
	if cfg.Client == nil {
		cli, err := client.New(client.Config{Endpoints: e.cl.Endpoints(), DialTimeout: 5 * time.Second})
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { cli.Close() })
		cfg.Client = cli
	}
	if cfg.Dir == "" {
		cfg.Dir = e.dir
	}
	var out bytes.Buffer
	if cfg.Exec == nil {
		cfg.Exec = e.executor(cfg.Client, cfg.Dir, &out)
	}
	cfg.Log = &out
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = 20 * time.Second
	}
	r, err := migrate.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return r, &out
}

// executor is the Lua executor of a runner: an engine on cli, output to out.
func (e *env) executor(cli *client.Client, dir string, out *bytes.Buffer) migrate.Executor {
	e.t.Helper()
	eng, err := engine.New(engine.Config{Client: cli, Stdout: out, Stderr: out})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { eng.Close() })
	x, err := migrate.NewLuaExecutor(eng, cli, dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { x.Close() })
	return x
}

func (e *env) get(key string) string {
	e.t.Helper()
	resp, err := e.cli.Get(e.ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return "<absent>"
	}
	return string(resp.Kvs[0].Value)
}

func (e *env) put(key, val string) {
	e.t.Helper()
	if _, err := e.cli.Put(e.ctx, key, val); err != nil {
		e.t.Fatal(err)
	}
}
