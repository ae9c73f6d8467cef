package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// clientConfig builds the client configuration from the global flags, as
// etcdctl does: TLS when a CA, a certificate or an https endpoint is given
// (or --insecure-transport=false), credentials from --user and --password
// (prompting on a terminal when --user has no password).
func clientConfig(c *cli.Context, p Process) (client.Config, error) {
	cfg := client.Config{
		Endpoints:            c.StringSlice(flagEndpoints),
		DialTimeout:          c.Duration(flagDialTimeout),
		DialKeepAliveTime:    c.Duration(flagKeepaliveTime),
		DialKeepAliveTimeout: c.Duration(flagKeepaliveTimeout),
	}
	// An empty endpoint is a typo on the command line (--endpoints=), not
	// a server that did not answer.
	if strings.TrimSpace(strings.Join(cfg.Endpoints, "")) == "" {
		return cfg, usageErrorf("--endpoints is empty: want host:port[,host:port...]")
	}
	for _, ep := range cfg.Endpoints {
		if strings.TrimSpace(ep) == "" {
			return cfg, usageErrorf("--endpoints %q has an empty endpoint: want host:port[,host:port...]", strings.Join(cfg.Endpoints, ","))
		}
	}
	tlsCfg, err := tlsConfig(c)
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsCfg
	if user := c.String(flagUser); user != "" {
		name, pass, hasPass := strings.Cut(user, ":")
		if hasPass && c.String(flagPassword) != "" {
			return cfg, usageErrorf("--user %q includes a password and --password is set too: give one", name)
		}
		if !hasPass {
			pass = c.String(flagPassword)
			if pass == "" {
				pass, err = promptPassword(p, name)
				if err != nil {
					return cfg, err
				}
			}
		}
		cfg.Username, cfg.Password = name, pass
	} else if c.String(flagPassword) != "" {
		return cfg, usageErrorf("--password needs --user")
	}
	return cfg, nil
}

func tlsConfig(c *cli.Context) (*tls.Config, error) {
	ca, cert, key := c.String(flagCACert), c.String(flagCert), c.String(flagKey)
	secureEndpoint := false
	for _, ep := range c.StringSlice(flagEndpoints) {
		if strings.HasPrefix(ep, "https://") || strings.HasPrefix(ep, "unixs://") {
			secureEndpoint = true
		}
	}
	if ca == "" && cert == "" && key == "" && !secureEndpoint && c.Bool(flagInsecureTrans) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.Bool(flagInsecureSkip)}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, &ioError{what: "--cacert", err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("--cacert %s: no PEM certificate found", ca)
		}
		cfg.RootCAs = pool
	}
	if (cert == "") != (key == "") {
		return nil, usageErrorf("--cert and --key go together")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, &ioError{what: "--cert/--key", err: err}
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// promptPassword asks for the password on the terminal; without one it is
// an error, never a hang on a pipe.
func promptPassword(p Process, user string) (string, error) {
	f, ok := p.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageErrorf("--user %q has no password: use --user name:password, --password or ETCDCTL_PASSWORD (no terminal to prompt on)", user)
	}
	fmt.Fprint(p.Stderr, "Password: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(p.Stderr)
	if err != nil {
		return "", &ioError{what: "password prompt", err: err}
	}
	return string(b), nil
}

// connector makes the default client of a run from cfg, at the first etcd
// call (engine.Config.Connect): a REPL starts while the cluster is down, and
// a script that makes no call never dials. The wait for the connection
// (up to --dial-timeout) ends early when ctx does, on Ctrl-C.
func connector(cfg client.Config) func(ctx context.Context) (*client.Client, error) {
	return func(ctx context.Context) (*client.Client, error) {
		// The client outlives the call that made it, so its context is
		// its own; only while New waits does ctx end it.
		life, end := context.WithCancel(context.Background())
		cc := cfg
		cc.Context = life
		stop := context.AfterFunc(ctx, end)
		cli, err := client.New(cc)
		if !stop() {
			if cli != nil {
				cli.Close()
			}
			return nil, ctx.Err()
		}
		if err != nil {
			end()
			return nil, err
		}
		return cli, nil
	}
}

// debugLogger is the client logger of --debug: everything, on stderr.
func debugLogger(w io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), zapcore.DebugLevel)
	return zap.New(core)
}

// logSettings writes every global setting to the --debug log, as
// etcdctl --debug shows its settings, whether it came from a flag, the
// environment, the config file or a default. The password is never
// written, only whether there is one.
func logSettings(lg *zap.Logger, c *cli.Context) {
	var fields []zap.Field
	for _, f := range globalFlags() {
		name := f.Names()[0]
		switch v := c.Value(name).(type) {
		case cli.StringSlice:
			fields = append(fields, zap.Strings(name, v.Value()))
		case time.Duration:
			fields = append(fields, zap.Duration(name, v))
		case bool:
			fields = append(fields, zap.Bool(name, v))
		case string:
			if name == flagPassword && v != "" {
				v = "(set)"
			}
			if name == flagUser {
				if user, _, hasPass := strings.Cut(v, ":"); hasPass {
					v = user + ":(set)"
				}
			}
			fields = append(fields, zap.String(name, v))
		default:
			fields = append(fields, zap.Any(name, v))
		}
	}
	lg.Debug("etcdscript: settings", fields...)
}
