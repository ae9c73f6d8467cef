package client_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The benchmarks run the etcd server in a child process (this test binary
// re-executed by etcdtest.StartChild), so the cpu-ns/op they report is the
// client's own CPU time per operation, not the server's. With
// ETCDSCRIPT_BENCH_ENDPOINTS set (comma-separated) they use that server
// instead, e.g. an etcd binary that syncs to disk as in production.
var benchServer etcdtest.SharedChild

func benchEndpoints(b *testing.B) []string {
	if eps := os.Getenv("ETCDSCRIPT_BENCH_ENDPOINTS"); eps != "" {
		return strings.Split(eps, ",")
	}
	return benchServer.Endpoints(b)
}

// kvAPI is what both clients offer for these benchmarks.
type kvAPI struct {
	put   func(ctx context.Context, k, v string) error
	get   func(ctx context.Context, k string) error
	close func()
}

func newOurs(b *testing.B) kvAPI {
	cli, err := client.New(client.Config{Endpoints: benchEndpoints(b), DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return kvAPI{
		put:   func(ctx context.Context, k, v string) error { _, err := cli.Put(ctx, k, v); return err },
		get:   func(ctx context.Context, k string) error { _, err := cli.Get(ctx, k); return err },
		close: func() { cli.Close() },
	}
}

func newOfficial(b *testing.B) kvAPI {
	cli, err := clientv3.New(clientv3.Config{Endpoints: benchEndpoints(b), DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return kvAPI{
		put:   func(ctx context.Context, k, v string) error { _, err := cli.Put(ctx, k, v); return err },
		get:   func(ctx context.Context, k string) error { _, err := cli.Get(ctx, k); return err },
		close: func() { cli.Close() },
	}
}

// gcCycles is the number of garbage collections the process has completed.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// gcCPU is the runtime's estimate of the CPU time its collector has used.
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return time.Duration(s[0].Value.Float64() * 1e9)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runKV runs op b.N times, one at a time on apis[0], or with 64 in flight
// spread evenly over apis (each goroutine keeps to one client, as a server
// handling requests would), and reports the client's CPU time per op and
// the garbage collections per million ops. In a process this small the
// collections are a good part of the CPU time, and how often they run
// follows the heap the clients keep as much as the bytes each op allocates.
func runKV(b *testing.B, inflight int, apis []kvAPI, op func(ctx context.Context, api kvAPI, i int64) error) {
	ctx := context.Background()
	var n, g atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, gc0, gcCPU0 := cpuTime(), gcCycles(), gcCPU()
	if inflight == 1 {
		for i := 0; i < b.N; i++ {
			if err := op(ctx, apis[0], int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism((inflight + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			api := apis[int(g.Add(1)-1)%len(apis)]
			for pb.Next() {
				if err := op(ctx, api, n.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	cpu, gcs, gcTime := cpuTime()-cpu0, gcCycles()-gc0, gcCPU()-gcCPU0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(gcs)*1e6/float64(b.N), "gc/Mop")
	b.ReportMetric(float64(gcTime.Nanoseconds())/float64(b.N), "gc-cpu-ns/op")
}

var benchValue = strings.Repeat("v", 256)

// benchClients is the number of clients of the clients=8 cases. Programs
// that open a client per tenant or per worker pool talk over many
// connections at once, and a cost paid per connection shows only there.
// The other cases run in a process holding one client, as most programs
// do: what a client keeps in memory sets how often the collector runs in a
// process this small, and so the CPU per op of both clients.
const benchClients = 8

// openKV opens n clients made by mk, each used once (outside the timer) so
// that connecting is not measured, and closes them when b ends.
func openKV(b *testing.B, mk func(*testing.B) kvAPI, n int) []kvAPI {
	apis := make([]kvAPI, n)
	for i := range apis {
		apis[i] = mk(b)
		b.Cleanup(apis[i].close)
		if err := apis[i].get(context.Background(), "bench/get"); err != nil {
			b.Fatal(err)
		}
	}
	return apis
}

// BenchmarkKV compares this client with the official one on the same
// server in the same run: go test ./client -run '^$' -bench BenchmarkKV -benchmem
//
// The client is the innermost name, so the sides of one comparison run
// next to each other, and a machine whose speed drifts during a run does
// not favour the side measured first. Each side opens its own clients and
// closes them after, so the process holds only the clients being measured.
func BenchmarkKV(b *testing.B) {
	seed := newRaw(b)
	err := seed.put(context.Background(), "bench/get", benchValue)
	seed.close()
	if err != nil {
		b.Fatal(err)
	}
	sides := []struct {
		name string
		mk   func(*testing.B) kvAPI
	}{{"ours", newOurs}, {"official", newOfficial}, {"raw", newRaw}}
	ops := []struct {
		name string
		fn   func(ctx context.Context, api kvAPI, i int64) error
	}{
		{"put", func(ctx context.Context, api kvAPI, i int64) error {
			return api.put(ctx, fmt.Sprintf("bench/put/%d", i%10000), benchValue)
		}},
		{"get", func(ctx context.Context, api kvAPI, _ int64) error { return api.get(ctx, "bench/get") }},
	}
	for _, c := range []struct {
		name              string
		inflight, clients int
		hostHeap          int
	}{
		{"inflight=1", 1, 1, 0},
		{"inflight=64/clients=1", 64, 1, 0},
		{"inflight=64/clients=" + strconv.Itoa(benchClients), 64, benchClients, 0},
		{"inflight=64/clients=" + strconv.Itoa(benchClients) + "/heap=64MiB", 64, benchClients, 64 << 20},
	} {
		for _, op := range ops {
			b.Run(op.name+"/"+c.name, func(b *testing.B) {
				for _, side := range sides {
					b.Run("client="+side.name, func(b *testing.B) {
						// The heap of a host program, which sets how
						// often the collector runs rather than what the
						// clients keep. Pointer-free, so it costs no
						// marking.
						host := make([]byte, c.hostHeap)
						runKV(b, c.inflight, openKV(b, side.mk, c.clients), op.fn)
						runtime.KeepAlive(host)
					})
				}
			})
		}
	}
}

// newRaw is the floor: generated gRPC stubs on a plain connection, with no
// client library at all.
func newRaw(b *testing.B) kvAPI {
	conn, err := grpc.NewClient(benchEndpoints(b)[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	kvc := pb.NewKVClient(conn)
	return kvAPI{
		put: func(ctx context.Context, k, v string) error {
			_, err := kvc.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte(v)})
			return err
		},
		get: func(ctx context.Context, k string) error {
			_, err := kvc.Range(ctx, &pb.RangeRequest{Key: []byte(k)})
			return err
		},
		close: func() { conn.Close() },
	}
}
