// Command etcdscript-etcd is the etcd server that `etcdscript run
// --embedded` starts: install it beside etcdscript
// (go install github.com/etcdscript/etcdscript/cmd/etcdscript/...). See
// package embedded for what it does.
package main

import (
	"os"

	"github.com/etcdscript/etcdscript/cmd/etcdscript/embedded"
)

func main() { os.Exit(embedded.Main()) }
