package app

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// envVars gives a flag its environment variables: ETCDSCRIPT_<NAME> first,
// then etcdctl's ETCDCTL_<NAME>, so an etcdctl environment works as it is.
// A flag on the command line wins over both.
func envVars(name string) []string {
	n := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	return []string{"ETCDSCRIPT_" + n, "ETCDCTL_" + n}
}

// Global flag names, shared by the flag definitions, the config file and
// the code that reads them.
const (
	flagEndpoints        = "endpoints"
	flagDialTimeout      = "dial-timeout"
	flagCommandTimeout   = "command-timeout"
	flagKeepaliveTime    = "keepalive-time"
	flagKeepaliveTimeout = "keepalive-timeout"
	flagCACert           = "cacert"
	flagCert             = "cert"
	flagKey              = "key"
	flagInsecureSkip     = "insecure-skip-tls-verify"
	flagInsecureTrans    = "insecure-transport"
	flagUser             = "user"
	flagPassword         = "password"
	flagWriteOut         = "write-out"
	flagHex              = "hex"
	flagDebug            = "debug"
	flagTimeout          = "timeout"
	flagMaxMemory        = "max-memory"
	flagNamespace        = "namespace"
	flagSandbox          = "sandbox"
	flagEmbedded         = "embedded"
	flagDataDir          = "data-dir"
	flagLib              = "lib"
	flagLogLevel         = "log-level"
	flagConfig           = "config"
)

// globalFlags are etcdctl's global flags, same names and defaults, plus
// etcdscript's own.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: flagEndpoints, Value: cli.NewStringSlice("127.0.0.1:2379"), Usage: "gRPC endpoints", EnvVars: envVars(flagEndpoints)},
		&cli.DurationFlag{Name: flagDialTimeout, Value: 2 * time.Second, Usage: "dial timeout for client connections", EnvVars: envVars(flagDialTimeout)},
		&cli.DurationFlag{Name: flagCommandTimeout, Value: 5 * time.Second, Usage: "timeout of each etcd call (not watches, keepalives, locks)", EnvVars: envVars(flagCommandTimeout)},
		&cli.DurationFlag{Name: flagKeepaliveTime, Value: 2 * time.Second, Usage: "keepalive time for client connections", EnvVars: envVars(flagKeepaliveTime)},
		&cli.DurationFlag{Name: flagKeepaliveTimeout, Value: 6 * time.Second, Usage: "keepalive timeout for client connections", EnvVars: envVars(flagKeepaliveTimeout)},
		&cli.StringFlag{Name: flagCACert, Usage: "verify certificates of TLS-enabled secure servers using this CA bundle", EnvVars: envVars(flagCACert)},
		&cli.StringFlag{Name: flagCert, Usage: "identify secure client using this TLS certificate file", EnvVars: envVars(flagCert)},
		&cli.StringFlag{Name: flagKey, Usage: "identify secure client using this TLS key file", EnvVars: envVars(flagKey)},
		&cli.BoolFlag{Name: flagInsecureSkip, Usage: "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)", EnvVars: envVars(flagInsecureSkip)},
		&cli.BoolFlag{Name: flagInsecureTrans, Value: true, Usage: "disable transport security for client connections", EnvVars: envVars(flagInsecureTrans)},
		&cli.StringFlag{Name: flagUser, Usage: "username[:password] for authentication (prompt if password is not supplied)", EnvVars: envVars(flagUser)},
		&cli.StringFlag{Name: flagPassword, Usage: "password for authentication (if this option is used, --user option shouldn't include password)", EnvVars: envVars(flagPassword)},
		&cli.StringFlag{Name: flagWriteOut, Aliases: []string{"w"}, Value: "simple", Usage: "set the output format (simple, json)", EnvVars: envVars(flagWriteOut)},
		&cli.BoolFlag{Name: flagHex, Usage: "print byte strings as hex encoded strings", EnvVars: envVars(flagHex)},
		&cli.BoolFlag{Name: flagDebug, Usage: "enable client-side debug logging", EnvVars: envVars(flagDebug)},
		&cli.DurationFlag{Name: flagTimeout, Usage: "timeout of the whole script (0: none)", EnvVars: envVars(flagTimeout)},
		&cli.StringFlag{Name: flagNamespace, Usage: "prefix every key the script uses with this namespace", EnvVars: envVars(flagNamespace)},
		&cli.BoolFlag{Name: flagSandbox, Usage: "run the script with no access outside etcd and its output", EnvVars: envVars(flagSandbox)},
		&cli.BoolFlag{Name: flagEmbedded, Usage: "start an etcd server of its own, reachable only by this user (a unix socket), and run against it", EnvVars: envVars(flagEmbedded)},
		&cli.StringFlag{Name: flagDataDir, Usage: "data directory of --embedded, kept, synced to disk and used by one run at a time (default: a temporary directory removed at exit)", EnvVars: envVars(flagDataDir)},
		&cli.StringSliceFlag{Name: flagLib, Usage: "directories searched by require after the script's own", EnvVars: envVars(flagLib)},
		&cli.StringFlag{Name: flagLogLevel, Value: "info", Usage: "level of the log module: debug, info, warn, error", EnvVars: envVars(flagLogLevel)},
		&cli.StringFlag{Name: flagMaxMemory, Value: "1GiB", Usage: "memory budget of the script, such as 512MiB, 1GiB or bytes (0: none); over it the script ends with exit code 13", EnvVars: envVars(flagMaxMemory)},
		&cli.StringFlag{Name: flagConfig, Usage: "YAML file with values for any of these flags (flags and environment win)", EnvVars: []string{"ETCDSCRIPT_CONFIG"}},
	}
}
