package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// wbWatcher counts the events one client's watch receives.
type wbWatcher struct {
	// count watches prefix from rev and returns once n events arrived.
	count func(ctx context.Context, prefix string, rev int64, n int) error
	close func()
}

func wbOurs(b *testing.B) wbWatcher {
	cli, err := client.New(client.Config{Endpoints: benchEndpoints(b), DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return wbWatcher{
		count: func(ctx context.Context, prefix string, rev int64, n int) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			got := 0
			for r := range cli.Watch(ctx, prefix, client.WithPrefix(), client.WithRev(rev)) {
				if err := r.Err(); err != nil {
					return err
				}
				if got += len(r.Events); got >= n {
					return nil
				}
			}
			return fmt.Errorf("watch closed after %d of %d events", got, n)
		},
		close: func() { cli.Close() },
	}
}

func wbOfficial(b *testing.B) wbWatcher {
	cli, err := clientv3.New(clientv3.Config{Endpoints: benchEndpoints(b), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	return wbWatcher{
		count: func(ctx context.Context, prefix string, rev int64, n int) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			got := 0
			for r := range cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
				if err := r.Err(); err != nil {
					return err
				}
				if got += len(r.Events); got >= n {
					return nil
				}
			}
			return fmt.Errorf("watch closed after %d of %d events", got, n)
		},
		close: func() { cli.Close() },
	}
}

// wbWriter is the write load, the same for both clients: transactions of
// wbTxnPuts puts of wbValue, wbInflight at a time, on plain generated gRPC
// stubs so that neither client library writes.
type wbWriter struct {
	conn *grpc.ClientConn
	kv   pb.KVClient
}

const (
	wbTxnPuts  = 100
	wbInflight = 4
)

var wbValue = []byte(strings.Repeat("w", 100))

func newWBWriter(b *testing.B) *wbWriter {
	conn, err := grpc.NewClient(benchEndpoints(b)[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	return &wbWriter{conn: conn, kv: pb.NewKVClient(conn)}
}

func (w *wbWriter) rev(ctx context.Context) (int64, error) {
	resp, err := w.kv.Range(ctx, &pb.RangeRequest{Key: []byte("wb/none")})
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// write writes at least n events under prefix.
func (w *wbWriter) write(ctx context.Context, prefix string, n int) error {
	txns := (n + wbTxnPuts - 1) / wbTxnPuts
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, wbInflight)
	for range wbInflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := next.Add(1) - 1
				if t >= int64(txns) {
					return
				}
				ops := make([]*pb.RequestOp, wbTxnPuts)
				for j := range ops {
					key := fmt.Sprintf("%s%04d", prefix, (int(t)*wbTxnPuts+j)%1000)
					ops[j] = &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(key), Value: wbValue}}}
				}
				if _, err := w.kv.Txn(ctx, &pb.TxnRequest{Success: ops}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return errors.Join(<-errc)
}

// compact drops the history written so far, so that repeated runs do not
// grow the server's database.
func (w *wbWriter) compact(ctx context.Context) error {
	rev, err := w.rev(ctx)
	if err != nil {
		return err
	}
	_, err = w.kv.Compact(ctx, &pb.CompactionRequest{Revision: rev, Physical: true})
	return err
}

var wbRun atomic.Int64

// wbMeasure runs one b.N: it counts b.N events with watcher while writer
// writes them (live) or after it wrote them (replay), and reports events/s
// and the client process's CPU time per event.
func wbMeasure(b *testing.B, watcher wbWatcher, writer *wbWriter, live bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("wb/%d/", wbRun.Add(1))
	start, err := writer.rev(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if !live {
		if err := writer.write(ctx, prefix, b.N); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	t0 := time.Now()
	var werr error
	var wg sync.WaitGroup
	if live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			werr = writer.write(ctx, prefix, b.N)
		}()
	}
	err = watcher.count(ctx, prefix, start+1, b.N)
	elapsed := time.Since(t0)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	if werr != nil {
		b.Fatal(werr)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	if err := writer.compact(ctx); err != nil {
		b.Fatal(err)
	}
}

// wbMeasurePaired runs one b.N with both watchers at once on the same
// events, so that both see the same load at the same moment: on a shared
// machine, whose load swings between two sequential runs, their ratio is
// steadier than that of separate runs. It reports each one's events/s and
// their ratio.
func wbMeasurePaired(b *testing.B, ours, official wbWatcher, writer *wbWriter, live bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("wb/%d/", wbRun.Add(1))
	start, err := writer.rev(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if !live {
		if err := writer.write(ctx, prefix, b.N); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	var werr error
	if live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			werr = writer.write(ctx, prefix, b.N)
		}()
	}
	var elapsed [2]time.Duration
	var errs [2]error
	for i, w := range []wbWatcher{ours, official} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.count(ctx, prefix, start+1, b.N)
			elapsed[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err := errors.Join(werr, errs[0], errs[1]); err != nil {
		b.Fatal(err)
	}
	oursRate, officialRate := float64(b.N)/elapsed[0].Seconds(), float64(b.N)/elapsed[1].Seconds()
	b.ReportMetric(oursRate, "ours-events/s")
	b.ReportMetric(officialRate, "official-events/s")
	b.ReportMetric(oursRate/officialRate, "ours/official")
	if err := writer.compact(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWatchEvents compares how fast this client and the official one
// receive watch events from the same server (a child process) in one run:
//
//	go test ./client/ -run '^$' -bench BenchmarkWatch -benchmem
//
// One op is one event. "live" watches while transactions of 100 puts (4 in
// flight, on plain gRPC stubs) are written, so events/s is bounded by the
// write rate and cpu-ns/event includes the writer's share; "replay" watches
// events written beforehand, which the server sends as fast as it can, so
// it measures the watching client alone. The "paired" runs watch with both
// clients at once, on the same events, and report the ratio of their rates.
func BenchmarkWatchEvents(b *testing.B) {
	clients := []struct {
		name string
		mk   func(*testing.B) wbWatcher
	}{{"client=ours", wbOurs}, {"client=official", wbOfficial}}
	// Warm the server up first, so that the first sub-benchmark does not
	// pay for a cold server.
	warm := newWBWriter(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if err := errors.Join(warm.write(ctx, "wb/warm/", 20000), warm.compact(ctx)); err != nil {
		b.Fatal(err)
	}
	cancel()
	warm.conn.Close()
	for _, mode := range []string{"live", "replay"} {
		for _, c := range clients {
			b.Run(mode+"/"+c.name, func(b *testing.B) {
				watcher := c.mk(b)
				defer watcher.close()
				writer := newWBWriter(b)
				defer writer.conn.Close()
				wbMeasure(b, watcher, writer, mode == "live")
			})
		}
		b.Run(mode+"/paired", func(b *testing.B) {
			ours, official := wbOurs(b), wbOfficial(b)
			defer ours.close()
			defer official.close()
			writer := newWBWriter(b)
			defer writer.conn.Close()
			wbMeasurePaired(b, ours, official, writer, mode == "live")
		})
	}
}
