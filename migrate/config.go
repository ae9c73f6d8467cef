package migrate

import (
	"context"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/etcdscript/etcdscript/client"
)

// Config configures a Runner.
type Config struct {
	// Client is the etcd client; required.
	Client *client.Client
	// Dir is the directory of <version>_<slug>.lua files; required.
	Dir string
	// Set names the migration set; "" means "default". Several sets can
	// live in one cluster.
	Set string
	// Prefix is where state, history and lock live; "" means
	// /etcdscript/migrations/<set>/.
	Prefix string
	// LockTimeout bounds the wait for the lock; 0 means 60 s.
	LockTimeout time.Duration
	// LockTTL is the TTL of the lock's lease: a crashed runner's lock
	// expires after it; 0 means 15 s.
	LockTTL time.Duration
	// AllowOutOfOrder applies pending versions lower than the head.
	AllowOutOfOrder bool
	// Exec runs the Lua of a migration; required for up and down.
	Exec Executor
	// ToolVersion is recorded in the state.
	ToolVersion string
	// Host and User identify the runner in history; "" means this
	// machine's host name and the current user.
	Host, User string
	// Log receives progress lines ("applying 0002_x.lua"); nil discards.
	Log io.Writer
	// Command is the command line that reaches this set, with the flags
	// that locate it (e.g. "etcdscript migrate --dir db/migrations"):
	// errors and status say what to run next as Command followed by a
	// subcommand, so that it can be pasted. "" means "etcdscript migrate".
	Command string
}

// Executor runs the Lua code of migration files.
type Executor interface {
	// Load compiles a migration file and reads its table.
	Load(f File) (*Migration, error)
	// Run calls the migration's up or down function with kv as its etcd
	// (the fenced or buffering facade).
	Run(ctx context.Context, m *Migration, direction string, kv client.KV) error
}

// Migration is a loaded migration file.
type Migration struct {
	File        File
	Description string
	HasDown     bool
	Atomic      bool
	// Handle is the Executor's own value for the compiled file.
	Handle any
}

func (c Config) withDefaults() Config {
	if c.Set == "" {
		c.Set = "default"
	}
	if c.Prefix == "" {
		c.Prefix = "/etcdscript/migrations/" + c.Set + "/"
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = 60 * time.Second
	}
	if c.LockTTL <= 0 {
		c.LockTTL = 15 * time.Second
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	if c.User == "" {
		if u, err := user.Current(); err == nil {
			c.User = u.Username
		}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Command == "" {
		c.Command = "etcdscript migrate"
	}
	return c
}
