// Command etcdscript runs Lua scripts against etcd.
package main

import (
	"os"

	"github.com/etcdscript/etcdscript/cmd/etcdscript/app"
)

func main() {
	os.Exit(app.Main(app.Process{Args: os.Args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv}))
}
