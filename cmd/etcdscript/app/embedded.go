package app

import (
	"context"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
	"github.com/urfave/cli/v2"
)

// startEmbedded starts the in-process etcd of --embedded and returns its
// endpoints. stop removes its data unless --data-dir named a directory to
// keep.
func startEmbedded(ctx context.Context, c *cli.Context) (endpoints []string, stop func(), err error) {
	cl, err := etcdtest.Start(ctx, etcdtest.Options{DataDir: c.String(flagDataDir)})
	if err != nil {
		return nil, nil, &connectError{err: err}
	}
	return cl.Endpoints(), func() { cl.Close() }, nil
}
