package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/migrate"
	"github.com/urfave/cli/v2"
)

func migrateCommand(p Process) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "dir", Value: "migrations", Usage: "directory of <version>_<slug>.lua files"},
		&cli.StringFlag{Name: "set", Value: "default", Usage: "name of the migration set"},
		&cli.StringFlag{Name: "prefix", Usage: "where state, history and lock live (default /etcdscript/migrations/<set>/)"},
		&cli.DurationFlag{Name: "lock-timeout", Value: 60 * time.Second, Usage: "how long to wait for the migration lock"},
		&cli.BoolFlag{Name: "allow-out-of-order", Usage: "apply pending versions lower than the head"},
	}
	sub := func(name, usage, argsUsage string, extra []cli.Flag, action func(*cli.Context, *migrate.Runner) error) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, ArgsUsage: argsUsage, Flags: extra,
			Action: func(c *cli.Context) error { return withRunner(c, p, action) },
		}
	}
	upTo := &cli.Int64Flag{Name: "to", Usage: "the highest version to apply", DefaultText: "all"}
	downTo := &cli.Int64Flag{Name: "to", Usage: "the version to end at (it stays applied)", DefaultText: "one step down"}
	dryRun := &cli.BoolFlag{Name: "dry-run", Usage: "print the planned writes (key, old value, new value); commit nothing"}
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply versioned Lua migrations (status, up, down, force, repair, baseline, history)",
		Description: "Migrations live in --dir as <version>_<slug>.lua files returning {up = function(m) ... end}.\n" +
			"State, history and a lease-backed lock live in etcd under --prefix. Exit codes: 0 done (or\n" +
			"nothing to do), 1 a migration failed, 3 a file does not compile, 6 unreadable files,\n" +
			"12 refused (checksum drift, dirty state, out of order, lock not acquired), 128 a bad\n" +
			"command line. These flags may also follow the command (migrate up --dir m).",
		Flags: flags,
		// Reached only when no subcommand was named.
		Action: func(c *cli.Context) error {
			const want = "status, up, down, force, repair, baseline or history"
			if c.NArg() == 0 {
				return &usageError{msg: "migrate needs a command: " + want, hint: usageHint(c)}
			}
			return &usageError{msg: fmt.Sprintf("migrate: unknown command %q (want %s)", c.Args().First(), want), hint: usageHint(c)}
		},
		Subcommands: []*cli.Command{
			sub("status", "show applied, pending, dirty and changed migrations (exit 0 when clean, 1 otherwise)", "", nil, func(c *cli.Context, r *migrate.Runner) error {
				rep, err := r.Status(c.Context)
				if err != nil {
					return err
				}
				if c.String(flagWriteOut) == "json" {
					if err := json.NewEncoder(p.Stdout).Encode(rep); err != nil {
						return err
					}
				} else {
					printStatus(p, rep)
				}
				if !rep.Clean {
					return &exitError{code: ExitScriptError}
				}
				return nil
			}),
			sub("up", "apply pending migrations", "", []cli.Flag{upTo, dryRun}, func(c *cli.Context, r *migrate.Runner) error {
				done, err := r.Up(c.Context, migrate.UpOptions{To: c.Int64("to"), DryRun: c.Bool("dry-run")})
				printApplied(p, done, c.Bool("dry-run"), "applied")
				if err == nil && len(done) == 0 {
					fmt.Fprintln(p.Stdout, "nothing to apply")
				}
				return err
			}),
			sub("down", "revert applied migrations (one step by default)", "", []cli.Flag{downTo, dryRun, &cli.BoolFlag{Name: "all", Usage: "revert every applied migration"}}, func(c *cli.Context, r *migrate.Runner) error {
				done, err := r.Down(c.Context, migrate.DownOptions{To: c.Int64("to"), All: c.Bool("all"), DryRun: c.Bool("dry-run")})
				printApplied(p, done, c.Bool("dry-run"), "reverted")
				return err
			}),
			sub("force", "record VERSION as the head and clear a dirty state, running nothing", "VERSION", nil, func(c *cli.Context, r *migrate.Runner) error {
				v, err := versionArg(c)
				if err != nil {
					return err
				}
				if err := r.Force(c.Context, v); err != nil {
					return err
				}
				fmt.Fprintf(p.Stdout, "head is now %d\n", v)
				return nil
			}),
			sub("repair", "re-record the checksums of applied files that were edited on purpose", "", nil, func(c *cli.Context, r *migrate.Runner) error {
				fixed, err := r.Repair(c.Context)
				if err != nil {
					return err
				}
				if len(fixed) == 0 {
					fmt.Fprintln(p.Stdout, "nothing to repair")
				}
				for _, v := range fixed {
					fmt.Fprintf(p.Stdout, "repaired checksum of %d\n", v)
				}
				return nil
			}),
			sub("baseline", "record every version up to VERSION as already applied", "VERSION", nil, func(c *cli.Context, r *migrate.Runner) error {
				v, err := versionArg(c)
				if err != nil {
					return err
				}
				if err := r.Baseline(c.Context, v); err != nil {
					return err
				}
				fmt.Fprintf(p.Stdout, "baselined at %d\n", v)
				return nil
			}),
			sub("history", "print every run of every migration: who ran it, when, its revisions and error", "", nil, func(c *cli.Context, r *migrate.Runner) error {
				recs, err := r.History(c.Context)
				if err != nil {
					return err
				}
				if c.String(flagWriteOut) == "json" {
					if recs == nil {
						recs = []migrate.Record{}
					}
					return json.NewEncoder(p.Stdout).Encode(recs)
				}
				w := tabwriter.NewWriter(p.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "VERSION\tNAME\tRUN\tDIRECTION\tSTATUS\tSTARTED\tBY\tREVISIONS\tERROR")
				for _, rec := range recs {
					fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\t%s@%s\t%s\t%s\n", rec.Version, rec.Name, rec.Run, orDash(rec.Direction), rec.Status,
						rec.StartedAt.Format(time.RFC3339), rec.User, rec.Host, revisions(rec), rec.Error)
				}
				return w.Flush()
			}),
		},
	}
}

func versionArg(c *cli.Context) (int64, error) {
	if c.NArg() != 1 {
		return 0, usageErrorf("%s needs one VERSION", c.Command.Name)
	}
	v, err := strconv.ParseInt(c.Args().First(), 10, 64)
	if err != nil || v < 0 {
		return 0, usageErrorf("%s: %q is not a version number", c.Command.Name, c.Args().First())
	}
	return v, nil
}

// withRunner connects, builds the engine and the runner from the flags,
// runs action, and maps migrate's errors to exit codes.
func withRunner(c *cli.Context, p Process, action func(*cli.Context, *migrate.Runner) error) error {
	if _, err := writeOut(c); err != nil {
		return err
	}
	ctx, stop := signalContext(p)
	defer stop()
	cfg, err := clientConfig(c, p)
	if err != nil {
		return err
	}
	if c.Bool(flagEmbedded) {
		eps, stopEtcd, err := startEmbedded(ctx, c, p)
		if err != nil {
			return err
		}
		defer stopEtcd()
		cfg.Endpoints, cfg.TLS = eps, nil
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	cfg.Context = ctx
	cli, err := client.New(cfg)
	if err != nil {
		return &connectError{err: err}
	}
	defer cli.Close()
	callTimeout := c.Duration(flagCommandTimeout)
	if callTimeout == 0 {
		callTimeout = -1
	}
	budget, err := maxMemory(c)
	if err != nil {
		return err
	}
	e, err := engine.New(engine.Config{
		Client: cli, Stdout: p.Stdout, Stderr: p.Stderr, NoSandbox: !c.Bool(flagSandbox),
		CallTimeout: callTimeout, LibPaths: c.StringSlice(flagLib), LogLevel: c.String(flagLogLevel),
		MaxMemory: budget,
	})
	if err != nil {
		return err
	}
	defer e.Close()
	dir := c.String("dir")
	exec, err := migrate.NewLuaExecutor(e, cli, dir)
	if err != nil {
		return err
	}
	defer exec.Close()
	r, err := migrate.New(migrate.Config{
		Client: cli, Dir: dir, Set: c.String("set"), Prefix: c.String("prefix"),
		LockTimeout: c.Duration("lock-timeout"), AllowOutOfOrder: c.Bool("allow-out-of-order"),
		Exec: exec, ToolVersion: Version, Log: p.Stderr, Command: migrateCommandLine(p.Args),
	})
	if err != nil {
		return usageErrorf("%v", err)
	}
	c.Context = ctx
	return migrateError(ctx, action(c, r))
}

func migrateError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var (
		ie *migrate.IOError
		fe *migrate.FailedError
	)
	switch {
	case errors.Is(err, migrate.ErrRefused):
		return &exitError{code: ExitMigration, err: err}
	case errors.As(err, &ie):
		return &ioError{err: err}
	case errors.As(err, &fe):
		return &exitError{code: ExitScriptError, err: err}
	}
	if se, ok := engine.AsScriptError(err); ok && se.Kind == engine.KindSyntax {
		return &exitError{code: ExitSyntax, err: err}
	}
	if _, isExit := asExit(err); isExit {
		return err
	}
	var cc *client.ConnectError
	if errors.As(err, &cc) {
		return &connectError{err: err}
	}
	return interruptedOr(ctx, err)
}

// migrateCommandLine is the start of the command lines that migrate
// suggests (`... force 3`): the program and the flags the user gave that
// say which set, in which cluster. Credentials are left out.
func migrateCommandLine(args []string) string {
	keep := map[string]bool{"dir": true, "set": true, "prefix": true, flagEndpoints: true, flagEmbedded: true, flagDataDir: true, flagConfig: true}
	line := []string{"etcdscript", "migrate"}
	for i := 1; i < len(args) && args[i] != "--"; i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || !keep[flagName(a)] {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == flagEmbedded {
			line = append(line, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				break
			}
			i++
			value = args[i]
		}
		line = append(line, "--"+name, shellQuote(value))
	}
	return strings.Join(line, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// revisions shows a run's etcd revisions as START-END.
func revisions(rec migrate.Record) string {
	switch {
	case rec.StartRevision == 0 && rec.EndRevision == 0:
		return "-"
	case rec.EndRevision == 0:
		return fmt.Sprintf("%d-", rec.StartRevision)
	}
	return fmt.Sprintf("%d-%d", rec.StartRevision, rec.EndRevision)
}

func printStatus(p Process, rep *migrate.Report) {
	fmt.Fprintf(p.Stdout, "set %s (%s): head %d", rep.Set, rep.Prefix, rep.Head)
	if rep.Dirty {
		fmt.Fprintf(p.Stdout, ", DIRTY at %d", rep.InProgress)
	}
	fmt.Fprintln(p.Stdout)
	w := tabwriter.NewWriter(p.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tNAME\tSTATUS")
	for _, e := range rep.Entries {
		fmt.Fprintf(w, "%d\t%s\t%s\n", e.Version, e.Name, e.Status)
	}
	w.Flush()
	if rep.Next != "" {
		fmt.Fprintf(p.Stdout, "next: %s\n", rep.Next)
	}
}

func printApplied(p Process, done []migrate.Applied, dry bool, verb string) {
	for _, a := range done {
		if !dry {
			fmt.Fprintf(p.Stdout, "%s %s (revision %d)\n", verb, a.Name, a.Revision)
			continue
		}
		fmt.Fprintf(p.Stdout, "%s (dry run):\n", a.Name)
		if len(a.Planned) == 0 {
			fmt.Fprintln(p.Stdout, "  no writes")
		}
		for _, w := range a.Planned {
			fmt.Fprintf(p.Stdout, "  %s: %s -> %s\n", w.Key, quoteOr(w.Old, "(absent)"), quoteOr(w.New, "(deleted)"))
		}
	}
}

func quoteOr(s *string, none string) string {
	if s == nil {
		return none
	}
	return strconv.Quote(*s)
}
