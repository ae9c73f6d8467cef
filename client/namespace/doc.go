// Package namespace confines a client to the keys under one prefix: every
// key a caller names gets the prefix, and every key the server returns
// loses it, so code written for a whole keyspace runs unchanged inside
// "app1/" or "tenant-b/".
//
// Wrap the parts of a client that carry keys:
//
//	cli, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:2379"}})
//	if err != nil {
//		return err
//	}
//	defer cli.Close()
//	cli.KV = namespace.NewKV(cli.KV, "app1/")
//	cli.Watcher = namespace.NewWatcher(cli.Watcher, "app1/")
//	cli.Lease = namespace.NewLease(cli.Lease, "app1/")
//	_, err = cli.Put(ctx, "config", "v") // writes "app1/config"
//
// The rewriting is that of the official clientv3 namespace package, with
// ranges held inside the prefix: a range from a key with WithFromKey ends at
// the end of the namespace, not of the whole keyspace, and WithPrefix on ""
// (or WithFromKey on "") selects the whole namespace. Compares and ops of
// transactions, nested ones included, are rewritten the same way, and the
// prefix is removed from every key in responses: Kvs, PrevKv, PrevKvs, the
// responses of nested transactions, watch events and the keys
// Lease.TimeToLive lists (keys outside the namespace are left out there).
//
// An empty key without WithPrefix or WithFromKey is refused with
// rpctypes.ErrEmptyKey, as the server refuses it; it does not silently
// become the prefix itself.
package namespace
