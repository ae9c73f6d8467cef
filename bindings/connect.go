package bindings

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/luart"
)

// defaultDialTimeout bounds etcd.connect when no dial_timeout is given.
const defaultDialTimeout = 5 * time.Second

var connectOptions = luart.NewOptionSet(
	"endpoints", "username", "password", "namespace", "dial_timeout", "command_timeout",
	"cacert", "cert", "key", "insecure_skip_tls_verify",
)

// connect is etcd.connect{endpoints=, username=, password=, namespace=,
// dial_timeout=, command_timeout=, cacert=, cert=, key=,
// insecure_skip_tls_verify=}: a client object with every call as a method.
// The TLS options name PEM files, as etcdctl's flags do, and are refused in
// a sandboxed run, which reads no files.
func (m *Module) connect(L *lua.LState) int {
	const fn = "etcd.connect"
	a := luart.Args{L: L, Fn: fn}
	o := a.Options(1, "opts", connectOptions)
	if o.Raw() == nil {
		a.Fail(1, "opts", "table expected, got %s", L.Get(1).Type().String())
	}
	cfg := client.Config{DialTimeout: o.Duration("dial_timeout", defaultDialTimeout), Context: m.runCtx()}
	eps := o.Table("endpoints")
	if eps == nil {
		o.Fail("endpoints", "an array of endpoints (\"host:port\") is required")
	}
	for i := 1; i <= eps.Len(); i++ {
		s, ok := eps.RawGetInt(i).(lua.LString)
		if !ok || s == "" {
			o.Fail("endpoints", "endpoints[%d]: non-empty string expected, got %s", i, eps.RawGetInt(i).Type().String())
		}
		cfg.Endpoints = append(cfg.Endpoints, string(s))
	}
	if len(cfg.Endpoints) == 0 {
		o.Fail("endpoints", "at least one endpoint is required")
	}
	cfg.Username = o.String("username", "")
	cfg.Password = o.String("password", "")
	if cfg.Password != "" && cfg.Username == "" {
		o.Fail("password", "a password needs a username")
	}
	ns := o.String("namespace", "")
	c := &conn{m: m, off: 1}
	if o.IsSet("command_timeout") {
		c.timeout, c.hasTimeout = o.Duration("command_timeout", 0), true
	}
	tlsCfg, field, err := connectTLS(&o, m.rt.Sandbox)
	if err != nil {
		o.Fail(field, "%v", err)
	}
	cfg.TLS = tlsCfg

	cli, err := m.dial(cfg)
	if err != nil {
		m.raise(L, fn, "", err)
	}
	if ns != "" {
		cli.KV = namespace.NewKV(cli.KV, ns)
		cli.Watcher = namespace.NewWatcher(cli.Watcher, ns)
		cli.Lease = namespace.NewLease(cli.Lease, ns)
	}
	c.cli, c.dialed = cli, true
	c.b = Backend{Client: func() (*client.Client, error) { return cli, nil }}

	m.mu.Lock()
	closed := m.closed
	if !closed {
		m.conns = append(m.conns, c)
	}
	m.mu.Unlock()
	if closed {
		_ = cli.Close()
		m.raise(L, fn, "", client.ErrClientClosed)
	}

	t := c.table(L)
	c.self = t
	t.RawSetString("close", L.NewFunction(func(L *lua.LState) int {
		if L.Get(1) != t {
			luart.ArgError(L, "etcd.close", "#0 (self)", "call it as a method of the client object: c:close()")
		}
		if err := c.closeClient(); err != nil {
			m.raise(L, "etcd.close", "", err)
		}
		return 0
	}))
	mt := L.CreateTable(0, 2)
	desc := "etcd client (" + strings.Join(cfg.Endpoints, ",") + ")"
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int { return pushString(L, desc) }))
	mt.RawSetString("__metatable", lua.LString(ClientKind))
	t.Metatable = mt
	L.Push(t)
	return 1
}

// connectTLS builds the TLS configuration from the options, or nil when
// none is given (an https:// endpoint still makes the client use TLS). On
// error it names the option at fault.
func connectTLS(o *luart.Options, sandbox bool) (*tls.Config, string, error) {
	ca, cert, key := o.String("cacert", ""), o.String("cert", ""), o.String("key", "")
	skip := o.Bool("insecure_skip_tls_verify", false)
	if ca == "" && cert == "" && key == "" && !skip {
		return nil, "", nil
	}
	if sandbox && (ca != "" || cert != "" || key != "") {
		field := "cacert"
		if ca == "" {
			field = "cert"
		}
		return nil, field, fmt.Errorf("a sandboxed run reads no files: cacert, cert and key are not available")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skip}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, "cacert", fmt.Errorf("reading %s: %w", ca, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "cacert", fmt.Errorf("%s holds no PEM certificate", ca)
		}
		cfg.RootCAs = pool
	}
	if (cert == "") != (key == "") {
		if cert == "" {
			return nil, "key", fmt.Errorf("key needs cert")
		}
		return nil, "cert", fmt.Errorf("cert needs key")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, "cert", fmt.Errorf("loading %s and %s: %w", cert, key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, "", nil
}
