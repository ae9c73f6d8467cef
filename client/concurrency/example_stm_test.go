package concurrency_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// This example moves money between two accounts in a software transaction:
// if another client changes either balance between the reads and the
// commit, the function runs again on the new balances, so no transfer is
// lost or applied twice.
func ExampleNewSTM() {
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
	for _, acct := range []string{"accounts/alice", "accounts/bob"} {
		if _, err := cli.Put(ctx, acct, "100"); err != nil {
			fmt.Println("put:", err)
			return
		}
	}

	transfer := func(from, to string, amount int) error {
		_, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
			fromBalance, err := strconv.Atoi(s.Get(from))
			if err != nil {
				return err
			}
			toBalance, err := strconv.Atoi(s.Get(to))
			if err != nil {
				return err
			}
			if fromBalance < amount {
				return fmt.Errorf("%s holds %d, cannot pay %d", from, fromBalance, amount)
			}
			s.Put(from, strconv.Itoa(fromBalance-amount))
			s.Put(to, strconv.Itoa(toBalance+amount))
			return nil
		}, concurrency.WithAbortContext(ctx))
		return err
	}
	fmt.Println(transfer("accounts/alice", "accounts/bob", 30))
	fmt.Println(transfer("accounts/bob", "accounts/alice", 500))

	resp, err := cli.Get(ctx, "accounts/", client.WithPrefix())
	if err != nil {
		fmt.Println("get:", err)
		return
	}
	for _, kv := range resp.Kvs {
		fmt.Printf("%s = %s\n", kv.Key, kv.Value)
	}
	// Output:
	// <nil>
	// accounts/bob holds 130, cannot pay 500
	// accounts/alice = 70
	// accounts/bob = 130
}
