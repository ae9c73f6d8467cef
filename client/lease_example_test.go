package client_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// ExampleKeepAliveError keeps a lease alive and, once the keepalive channel
// closes, tells why.
func ExampleKeepAliveError() {
	cli, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:2379"}, DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	lease, err := cli.Grant(ctx, 10)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := cli.Put(ctx, "service/instance-1", "up", client.WithLease(lease.ID)); err != nil {
		log.Fatal(err)
	}
	ch, err := cli.KeepAlive(ctx, lease.ID)
	if err != nil {
		log.Fatal(err)
	}
	for resp := range ch {
		log.Printf("lease %x renewed for %d s", resp.ID, resp.TTL)
	}
	switch err := client.KeepAliveError(ch); {
	case errors.Is(err, context.Canceled):
		// We stopped the keepalive; the lease expires after its TTL.
	case errors.Is(err, rpctypes.ErrLeaseNotFound), errors.Is(err, client.ErrLeaseRevoked):
		log.Print("lease gone: service/instance-1 was deleted with it")
	case errors.Is(err, client.ErrLeaseExpired):
		// No member with a leader could renew the lease within its TTL;
		// Classify names the cause (no_leader, unavailable).
		log.Printf("lease lost (%s): %v", client.Classify(err).Code, err)
	default:
		log.Printf("keepalive ended: %v", err)
	}
}
