package app

import (
	"fmt"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/urfave/cli/v2"
)

func checkCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "compile scripts without running them (no etcd needed)",
		ArgsUsage: "FILE...",
		Description: "Prints each problem as FILE:LINE: message on stderr. Exits 3 when a script\n" +
			"does not compile, 6 when a file cannot be read, 0 when all are fine.",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("check needs at least one script file")
			}
			// An engine with no client: compiling connects to nothing.
			e, err := engine.New(engine.Config{})
			if err != nil {
				return err
			}
			defer e.Close()
			code := ExitOK
			for _, file := range c.Args().Slice() {
				if file == "-" {
					return usageErrorf("check reads files, not stdin (-)")
				}
				err := e.Check(file)
				if err == nil {
					continue
				}
				se, ok := engine.AsScriptError(err)
				if !ok {
					return err
				}
				switch se.Kind {
				case engine.KindIO:
					fmt.Fprintf(p.Stderr, "%s: %s\n", file, se.Message)
					code = ExitIO
				default:
					fmt.Fprintln(p.Stderr, problem(se, file, nil))
					if code == ExitOK {
						code = ExitSyntax
					}
				}
			}
			if code != ExitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
}
