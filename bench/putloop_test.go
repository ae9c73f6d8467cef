package bench_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// EndpointsEnv names the etcd server BenchmarkOfficialPutMany writes to
// (comma-separated endpoints). The harness sets it so that this baseline
// and `etcdscript run` of put_many load the same server in the same run;
// unset, the benchmark starts its own server in this process.
const EndpointsEnv = "ETCDSCRIPT_BENCH_ENDPOINTS"

var (
	pmKeys     = flag.Int("putmany.keys", 100_000, "keys written by one op of BenchmarkOfficialPutMany")
	pmValue    = flag.Int("putmany.value-bytes", 256, "bytes per value")
	pmBatch    = flag.Int("putmany.batch", 128, "puts per txn (the server allows 128)")
	pmInflight = flag.Int("putmany.inflight", 8, "txns in flight")
	pmPrefix   = flag.String("putmany.prefix", "bench/putmany/go/", "prefix of the keys written")
)

// BenchmarkOfficialPutMany is the baseline of etcd.put_many: the best plain
// Go bulk load on the official client that we know of (FACTS.md: txns of
// 128 puts, 8 in flight, beat single puts at any concurrency). One op writes
// -putmany.keys keys named prefix + %08d (1-based, as bench/scripts/put_many.lua
// names them), each run overwriting the same keys.
//
//	go test ./bench -run '^$' -bench OfficialPutMany -benchtime 1x
func BenchmarkOfficialPutMany(b *testing.B) {
	eps := benchEndpoints(b)
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	value := strings.Repeat("v", *pmValue)
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		if err := officialLoad(ctx, cli, *pmPrefix, value, *pmKeys, *pmBatch, *pmInflight); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(*pmKeys)*float64(b.N)/elapsed.Seconds(), "keys/s")
	resp, err := cli.Get(ctx, *pmPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		b.Fatal(err)
	}
	if resp.Count != int64(*pmKeys) {
		b.Fatalf("%d keys under %s after the load, want %d", resp.Count, *pmPrefix, *pmKeys)
	}
}

// officialLoad writes n keys in txns of batch puts, inflight txns at a time.
func officialLoad(ctx context.Context, cli *clientv3.Client, prefix, value string, n, batch, inflight int) error {
	if batch <= 0 || inflight <= 0 {
		return fmt.Errorf("batch %d and inflight %d must be positive", batch, inflight)
	}
	batches := (n + batch - 1) / batch
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, inflight)
	for w := range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops := make([]clientv3.Op, 0, batch)
			for {
				t := int(next.Add(1) - 1)
				if t >= batches || ctx.Err() != nil {
					return
				}
				ops = ops[:0]
				for i := t * batch; i < min((t+1)*batch, n); i++ {
					ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s%08d", prefix, i+1), value))
				}
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					errs[w] = fmt.Errorf("txn %d of %d: %w", t+1, batches, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

var server struct {
	once sync.Once
	c    *etcdtest.Cluster
	eps  []string
	err  error
}

// benchEndpoints returns the server named by EndpointsEnv, or starts one.
func benchEndpoints(b *testing.B) []string {
	b.Helper()
	if v := os.Getenv(EndpointsEnv); v != "" {
		return strings.Split(v, ",")
	}
	server.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), etcdtest.StartTimeout)
		defer cancel()
		server.c, server.err = etcdtest.Start(ctx, etcdtest.Options{})
		if server.err == nil {
			server.eps = server.c.Endpoints()
		}
	})
	if server.err != nil {
		b.Fatalf("start etcd: %v", server.err)
	}
	return server.eps
}

func stopServer() {
	if server.c != nil {
		server.c.Close()
	}
}
