package app

import (
	"fmt"

	"github.com/etcdscript/etcdscript/editor"
	"github.com/urfave/cli/v2"
)

func typesCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:  "types",
		Usage: "print or write LuaLS definitions of etcd and the stdlib, for editor completion",
		Description: "Without --out, prints the definitions of the etcd module. With --out DIR, writes\n" +
			"DIR/meta/etcd.lua, DIR/meta/stdlib.lua and (unless present) DIR/.luarc.json.",
		Flags: []cli.Flag{&cli.StringFlag{Name: "out", Usage: "directory to write the files into"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("types takes no arguments (use --out DIR)")
			}
			dir := c.String("out")
			if dir == "" {
				data, err := editor.Read("meta/etcd.lua")
				if err != nil {
					return err
				}
				_, err = p.Stdout.Write(data)
				return err
			}
			written, err := editor.Write(dir)
			if err != nil {
				return &ioError{what: "types", err: err}
			}
			for _, w := range written {
				fmt.Fprintln(p.Stdout, w)
			}
			return nil
		},
	}
}
