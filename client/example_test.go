package client_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// This example starts an etcd server inside the process, writes and reads
// keys, and changes a value only if nobody changed it since it was read.
func Example_putGetTxn() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	srv, err := etcdtest.Start(ctx, etcdtest.Options{})
	if err != nil {
		fmt.Println("start etcd:", err)
		return
	}
	defer srv.Close()

	cli, err := client.New(client.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	defer cli.Close()

	for _, kv := range [][2]string{{"config/color", "blue"}, {"config/size", "L"}} {
		if _, err := cli.Put(ctx, kv[0], kv[1]); err != nil {
			fmt.Println("put:", err)
			return
		}
	}
	resp, err := cli.Get(ctx, "config/", client.WithPrefix())
	if err != nil {
		fmt.Println("get:", err)
		return
	}
	for _, kv := range resp.Kvs {
		fmt.Printf("%s = %s\n", kv.Key, kv.Value)
	}

	// Compare-and-swap: the put happens only if config/color is still at
	// the revision read above. The second attempt finds it changed, so its
	// Else branch reads the current value instead.
	rev := resp.Kvs[0].ModRevision
	for i := 0; i < 2; i++ {
		tr, err := cli.Txn(ctx).
			If(client.Compare(client.ModRevision("config/color"), "=", rev)).
			Then(client.OpPut("config/color", "green")).
			Else(client.OpGet("config/color")).
			Commit()
		if err != nil {
			fmt.Println("txn:", err)
			return
		}
		if tr.Succeeded {
			fmt.Println("swapped to green")
		} else {
			fmt.Println("changed meanwhile; now", string(tr.Responses[0].GetResponseRange().Kvs[0].Value))
		}
	}
	// Output:
	// config/color = blue
	// config/size = L
	// swapped to green
	// changed meanwhile; now green
}

// This example reads a range of any size one key-value at a time, with
// memory for about one part of the server's stream rather than the whole
// range.
func ExampleClient_ReadRange() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	srv, err := etcdtest.Start(ctx, etcdtest.Options{})
	if err != nil {
		fmt.Println("start etcd:", err)
		return
	}
	defer srv.Close()

	cli, err := client.New(client.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	defer cli.Close()

	for i := range 1000 {
		if _, err := cli.Put(ctx, fmt.Sprintf("users/%04d", i), "{}"); err != nil {
			fmt.Println("put:", err)
			return
		}
	}
	r, err := cli.ReadRange(ctx, "users/", client.WithPrefix())
	if err != nil {
		fmt.Println("read range:", err)
		return
	}
	defer r.Close()
	n, last := 0, ""
	for {
		kv, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("read range:", err)
			return
		}
		n, last = n+1, string(kv.Key)
	}
	fmt.Println(n, "keys, the last", last)
	// Output:
	// 1000 keys, the last users/0999
}
