package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// callsHandled sums the grpc_client_handled_total counter of one gRPC method
// (for instance "Put") over every code and type.
func callsHandled(reg prometheus.Gatherer, method string) int {
	mfs, err := reg.Gather()
	if err != nil {
		return -1
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != "grpc_client_handled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "grpc_method" && l.GetValue() == method {
					n += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return n
}

// Prometheus client metrics for every call: the interceptors of
// go-grpc-middleware's prometheus provider go in Config.DialOptions, and
// the metrics are registered with a registry the program serves.
func ExampleConfig_metrics() {
	// An etcd inside this process, for the example; a program would use
	// its cluster's endpoints.
	cluster, err := etcdtest.Start(context.Background(), etcdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()

	metrics := grpcprom.NewClientMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)

	cli, err := client.New(client.Config{
		Endpoints:   cluster.Endpoints(),
		DialTimeout: 5 * time.Second,
		DialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(metrics.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(metrics.StreamClientInterceptor()),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range []string{"a", "b", "c"} {
		if _, err := cli.Put(ctx, "greeting", v); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := cli.Get(ctx, "greeting"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("puts:", callsHandled(reg, "Put"), "gets:", callsHandled(reg, "Range"))
	// Output: puts: 3 gets: 1
}

// TestMetricsCountCalls checks that the interceptors of Config.DialOptions
// see every call: unary and streaming ones, on the balanced connection and
// on the per-endpoint connections of Maintenance.
func TestMetricsCountCalls(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	metrics := grpcprom.NewClientMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	cli := adminClient(t, client.Config{
		Endpoints: cl.Endpoints(),
		DialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(metrics.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(metrics.StreamClientInterceptor()),
		},
	})
	ctx := adminCtx(t)
	for name, want := range map[string]int{"Put": 0, "Range": 0, "Txn": 0, "MemberList": 0, "Status": 0, "Snapshot": 0} {
		if got := callsHandled(reg, name); got != want {
			t.Fatalf("%s counted %d times before any call", name, got)
		}
	}

	const puts, gets = 7, 4
	for i := range puts {
		if _, err := cli.Put(ctx, fmt.Sprintf("m%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	for range gets {
		if _, err := cli.Get(ctx, "m", client.WithPrefix()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Txn(ctx).Then(client.OpGet("m1"), client.OpPut("m2", "w")).Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.MemberList(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := cli.Status(ctx, cl.Endpoints()[0]); err != nil {
			t.Fatal(err)
		}
	}
	rc, err := cli.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()

	for name, want := range map[string]int{"Put": puts, "Range": gets, "Txn": 1, "MemberList": 1, "Status": 2, "Snapshot": 1} {
		if got := callsHandled(reg, name); got != want {
			t.Errorf("%s: %d calls counted, %d made", name, got, want)
		}
	}
}
