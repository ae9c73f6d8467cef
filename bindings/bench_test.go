package bindings_test

// Benchmarks, all against an etcd server in a child process (this test
// binary re-executed), so the figures are the client side's:
//
//	go test ./bindings -run '^$' -bench . -benchmem -benchtime 1x
//
// BenchmarkKVLoop runs 10,000 put+get pairs as a Lua loop and as the same Go
// loop on our client, alternating in rounds, and reports their ratio
// (go-time / lua-time: 1 means Lua costs nothing). BenchmarkWatchEvents
// measures events per second into a Lua callback while a producer writes
// txns of 128 puts. BenchmarkScan compares etcd.scan over 200,000 keys of
// 100 bytes with one Get WithPrefix of the official client, each in a child
// process of its own (bench/scanchild, which links no etcd server), whose
// peak RSS is read from /proc (VmHWM).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/etcdscript/etcdscript/bindings"
	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// childEnv names what a re-executed test binary does; endpointsEnv and
// prefixEnv give a child its server and keys.
const (
	childEnv     = "ETCDSCRIPT_BINDINGS_CHILD"
	endpointsEnv = "ETCDSCRIPT_BINDINGS_ENDPOINTS"
	prefixEnv    = "ETCDSCRIPT_BINDINGS_PREFIX"
)

// runChild runs the child process of a benchmark, when this test binary was
// started as one; it reports whether it did.
func runChild() bool {
	switch os.Getenv(childEnv) {
	case "":
		return false
	case "producer":
		childProducer()
	default:
		fmt.Println("error unknown child", os.Getenv(childEnv))
		os.Exit(2)
	}
	return true
}

// benchServer is the etcd server of the benchmarks, in a child process
// (etcdtest.StartChild), started once per test binary.
var benchServer etcdtest.SharedChild

func benchEndpoints(b *testing.B) []string { return benchServer.Endpoints(b) }

// benchRun is a script run on the bench server.
type benchRun struct {
	L      *lua.LState
	rt     *luart.Runtime
	mod    *bindings.Module
	cli    *client.Client
	cancel context.CancelFunc
}

const benchCallTimeout = 10 * time.Second

func newBenchRun(tb testing.TB, endpoints []string) *benchRun {
	cli, err := client.New(client.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rt := &luart.Runtime{Ctx: ctx, CallTimeout: benchCallTimeout, Loop: luart.NewLoop()}
	mod := bindings.New(rt, bindings.Backend{Client: func() (*client.Client, error) { return cli, nil }})
	L := lua.NewState()
	mod.Install(L)
	return &benchRun{L: L, rt: rt, mod: mod, cli: cli, cancel: cancel}
}

func (r *benchRun) close() {
	r.mod.Close()
	r.rt.Loop.Close()
	r.L.Close()
	r.cancel()
	r.cli.Close()
}

// call runs the compiled function fn with args and returns its results.
func (r *benchRun) call(tb testing.TB, fn *lua.LFunction, args ...lua.LValue) []lua.LValue {
	top := r.L.GetTop()
	r.L.Push(fn)
	for _, a := range args {
		r.L.Push(a)
	}
	if err := r.L.PCall(len(args), lua.MultRet, nil); err != nil {
		tb.Fatal(err)
	}
	out := make([]lua.LValue, 0, r.L.GetTop()-top)
	for i := top + 1; i <= r.L.GetTop(); i++ {
		out = append(out, r.L.Get(i))
	}
	r.L.SetTop(top)
	return out
}

func (r *benchRun) compile(tb testing.TB, src string) *lua.LFunction {
	fn, err := r.L.LoadString(src)
	if err != nil {
		tb.Fatal(err)
	}
	return fn
}

const kvLoopSrc = `
local prefix, from, to = ...
local put, get = etcd.put, etcd.get
for i = from, to do
  local k = prefix .. i
  put(k, "value-0123456789-0123456789-0123456789")
  local kv = get(k)
  if kv.value ~= "value-0123456789-0123456789-0123456789" then error("bad value") end
end
`

// BenchmarkKVLoop compares a Lua loop of puts and gets with the same loop
// in Go on our client. One op is one put and one get. The two loops
// alternate in rounds of 1,000 pairs, so that load from other processes
// hits both alike; ratio is go-time / lua-time.
func BenchmarkKVLoop(b *testing.B) {
	eps := benchEndpoints(b)
	r := newBenchRun(b, eps)
	defer r.close()
	fn := r.compile(b, kvLoopSrc)
	const value = "value-0123456789-0123456789-0123456789"
	// The same loop in Go: each call under its own timeout, derived from
	// the run's context, as the bindings make them.
	runCtx := r.rt.Ctx
	goLoop := func(prefix string, from, to int) {
		for i := from; i <= to; i++ {
			k := prefix + strconv.Itoa(i)
			ctx, cancel := context.WithTimeout(runCtx, benchCallTimeout)
			_, err := r.cli.Put(ctx, k, value)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel = context.WithTimeout(runCtx, benchCallTimeout)
			resp, err := r.cli.Get(ctx, k)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != value {
				b.Fatal("bad value")
			}
		}
	}
	// Warm both paths up.
	r.call(b, fn, lua.LString("bench/lua/"), lua.LNumber(1), lua.LNumber(200))
	goLoop("bench/go/", 1, 200)

	const round = 1000
	var luaTime, goTime, luaCPU, goCPU time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := 1; i <= 10000; i += round {
			t0, c0 := time.Now(), cpuTime()
			r.call(b, fn, lua.LString("bench/lua/"), lua.LNumber(i), lua.LNumber(i+round-1))
			t1, c1 := time.Now(), cpuTime()
			goLoop("bench/go/", i, i+round-1)
			t2, c2 := time.Now(), cpuTime()
			luaTime += t1.Sub(t0)
			goTime += t2.Sub(t1)
			luaCPU += c1 - c0
			goCPU += c2 - c1
		}
	}
	b.StopTimer()
	pairs := float64(b.N) * 10000
	b.ReportMetric(float64(luaTime.Nanoseconds())/pairs, "lua-ns/pair")
	b.ReportMetric(float64(goTime.Nanoseconds())/pairs, "go-ns/pair")
	b.ReportMetric(float64(goTime)/float64(luaTime), "ratio")
	// The client-side CPU per pair: steadier than wall time on a busy machine.
	b.ReportMetric(float64(luaCPU.Nanoseconds())/pairs, "lua-cpu-ns/pair")
	b.ReportMetric(float64(goCPU.Nanoseconds())/pairs, "go-cpu-ns/pair")
}

// BenchmarkKVLoopBudget runs the Lua loop of BenchmarkKVLoop with a
// memory budget (luart.Budget: its heap sampler running, the run's
// context cancelable by it) and without, alternating in rounds of 1,000
// pairs; budget-ratio is budget-time / none-time, 1 when the budget costs
// nothing.
func BenchmarkKVLoopBudget(b *testing.B) {
	eps := benchEndpoints(b)
	r := newBenchRun(b, eps)
	defer r.close()
	fn := r.compile(b, kvLoopSrc)
	r.call(b, fn, lua.LString("bench/budget/"), lua.LNumber(1), lua.LNumber(200))
	baseCtx := r.rt.Ctx
	const round = 1000
	var withTime, withoutTime time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := 1; i <= 10000; i += round {
			ctx, stop := context.WithCancelCause(baseCtx)
			r.rt.Ctx, r.rt.Memory = ctx, luart.StartBudget(256<<20, stop)
			t0 := time.Now()
			r.call(b, fn, lua.LString("bench/budget/"), lua.LNumber(i), lua.LNumber(i+round-1))
			t1 := time.Now()
			r.rt.Memory.End()
			stop(nil)
			r.rt.Ctx, r.rt.Memory = baseCtx, nil
			t2 := time.Now()
			r.call(b, fn, lua.LString("bench/none/"), lua.LNumber(i), lua.LNumber(i+round-1))
			t3 := time.Now()
			withTime += t1.Sub(t0)
			withoutTime += t3.Sub(t2)
		}
	}
	b.StopTimer()
	pairs := float64(b.N) * 10000
	b.ReportMetric(float64(withTime.Nanoseconds())/pairs, "budget-ns/pair")
	b.ReportMetric(float64(withoutTime.Nanoseconds())/pairs, "none-ns/pair")
	b.ReportMetric(float64(withTime)/float64(withoutTime), "budget-ratio")
}

const watchSrc = `
local prefix, total = ...
local n, last = 0, 0
etcd.watch(prefix, {prefix = true}, function(ev)
  n = n + 1
  if ev.revision < last then error("revisions went backwards") end
  last = ev.revision
  local _ = ev.kv.key
  if n == total then return false end
end)
go_ready()
etcd.wait()
return n
`

// BenchmarkWatchEvents measures events per second delivered to a Lua
// callback. live: while another process writes txns of 128 puts, 8 txns in
// flight (the figure includes the producer's pace: producer-only shows it
// alone; cpu-ns/event is this process's, delivery alone). replay: the same writes made first, then watched from their
// first revision, which measures delivery alone. Every event must arrive:
// the script ends its watch on the last.
func BenchmarkWatchEvents(b *testing.B) {
	b.Run("live", func(b *testing.B) { benchWatch(b, true) })
	b.Run("replay", func(b *testing.B) { benchWatch(b, false) })
	b.Run("producer-only", func(b *testing.B) {
		eps := benchEndpoints(b)
		producer, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer producer.Close()
		total := watchTotal(b)
		start := time.Now()
		if err := produce(producer, fmt.Sprintf("bench/watch/%d/", time.Now().UnixNano()), total, 128, 8); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total)/time.Since(start).Seconds(), "puts/s")
	})
}

func watchTotal(b *testing.B) int {
	const batch = 128
	total := max(b.N, 100000)
	return (total + batch - 1) / batch * batch
}

const watchReplaySrc = `
local prefix, total, rev = ...
local n, last = 0, 0
etcd.watch(prefix, {prefix = true, rev = rev}, function(ev)
  n = n + 1
  if ev.revision < last then error("revisions went backwards") end
  last = ev.revision
  local _ = ev.kv.key
  if n == total then return false end
end)
etcd.wait()
return n
`

func benchWatch(b *testing.B, live bool) {
	eps := benchEndpoints(b)
	r := newBenchRun(b, eps)
	defer r.close()
	const batch, inflight = 128, 8
	total := watchTotal(b)
	prefix := fmt.Sprintf("bench/watch/%d/", time.Now().UnixNano())
	producer, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()

	var start time.Time
	var cpu0 time.Duration
	var out []lua.LValue
	if live {
		produced := make(chan error, 1)
		r.L.SetGlobal("go_ready", r.L.NewFunction(func(L *lua.LState) int {
			// The watch exists: start writing, from another process, so
			// that this one's CPU time is the delivery's alone.
			start, cpu0 = time.Now(), cpuTime()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=producer", endpointsEnv+"="+strings.Join(eps, ","),
				prefixEnv+"="+prefix, "ETCDSCRIPT_BINDINGS_TOTAL="+strconv.Itoa(total))
			go func() {
				out, err := cmd.CombinedOutput()
				if err != nil {
					err = fmt.Errorf("producer: %v: %s", err, out)
					// The script would wait for events that never come.
					r.cancel()
				}
				produced <- err
			}()
			return 0
		}))
		fn := r.compile(b, watchSrc)
		b.ResetTimer()
		top := r.L.GetTop()
		r.L.Push(fn)
		r.L.Push(lua.LString(prefix))
		r.L.Push(lua.LNumber(total))
		callErr := r.L.PCall(2, 1, nil)
		b.StopTimer()
		if err := <-produced; err != nil {
			b.Fatal(err)
		}
		if callErr != nil {
			b.Fatal(callErr)
		}
		out = []lua.LValue{r.L.Get(-1)}
		r.L.SetTop(top)
	} else {
		resp, err := producer.Get(context.Background(), "bench/none")
		if err != nil {
			b.Fatal(err)
		}
		if err := produce(producer, prefix, total, batch, inflight); err != nil {
			b.Fatal(err)
		}
		fn := r.compile(b, watchReplaySrc)
		b.ResetTimer()
		start, cpu0 = time.Now(), cpuTime()
		out = r.call(b, fn, lua.LString(prefix), lua.LNumber(total), lua.LNumber(resp.Header.Revision+1))
		b.StopTimer()
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	if got := out[0]; got != lua.LNumber(total) {
		b.Fatalf("the callback saw %v events, want %d", got, total)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(total), "ns/event")
	// The CPU time of this process (the producer's too, when live) per
	// event: what delivery costs whatever else the machine is doing.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/event")
}

// childProducer writes the keys of a live watch benchmark.
func childProducer() {
	eps := strings.Split(os.Getenv(endpointsEnv), ",")
	total, _ := strconv.Atoi(os.Getenv("ETCDSCRIPT_BINDINGS_TOTAL"))
	cli, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	defer cli.Close()
	if err := produce(cli, os.Getenv(prefixEnv), total, 128, 8); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
}

// produce writes total keys under prefix in txns of batch puts, inflight
// txns at a time.
func produce(cli *client.Client, prefix string, total, batch, inflight int) error {
	sem := make(chan struct{}, inflight)
	errs := make(chan error, total/batch+1)
	var wg sync.WaitGroup
	value := strings.Repeat("v", 64)
	for i := 0; i < total; i += batch {
		sem <- struct{}{}
		wg.Add(1)
		go func(from int) {
			defer wg.Done()
			defer func() { <-sem }()
			ops := make([]client.Op, 0, batch)
			for j := from; j < from+batch; j++ {
				ops = append(ops, client.OpPut(fmt.Sprintf("%s%09d", prefix, j), value))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// scanKeys and scanValueSize are the data set of BenchmarkScan.
const (
	scanKeys      = 200000
	scanValueSize = 100
	scanPrefix    = "bench/scan/"
)

var scanSeed sync.Once

// seedScan writes the data set once per server.
func seedScan(b *testing.B, eps []string) {
	scanSeed.Do(func() {
		cli, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer cli.Close()
		ctx := context.Background()
		resp, err := cli.Get(ctx, scanPrefix, client.WithPrefix(), client.WithCountOnly())
		if err != nil {
			b.Fatal(err)
		}
		if resp.Count == scanKeys {
			return
		}
		value := strings.Repeat("x", scanValueSize)
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for i := 0; i < scanKeys; i += 128 {
			sem <- struct{}{}
			wg.Add(1)
			go func(from int) {
				defer wg.Done()
				defer func() { <-sem }()
				ops := make([]client.Op, 0, 128)
				for j := from; j < from+128 && j < scanKeys; j++ {
					ops = append(ops, client.OpPut(fmt.Sprintf("%s%09d", scanPrefix, j), value))
				}
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					b.Error(err)
				}
			}(i)
		}
		wg.Wait()
	})
}

// childResult is what a scan child reports.
type childResult struct {
	count   int64
	elapsed time.Duration
	maxRSS  int64 // bytes
	baseRSS int64 // bytes, right before the read began
}

var (
	scanChildOnce sync.Once
	scanChildBin  string
	scanChildErr  error
)

// buildScanChild builds the test binary of bench/scanchild, the scan
// children, once per run. They are not this test binary because it links
// an etcd server (tests/etcdtest), which would weigh in every RSS figure.
func buildScanChild(b *testing.B) string {
	scanChildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scanchild-")
		if err != nil {
			scanChildErr = err
			return
		}
		scanChildBin = filepath.Join(dir, "scanchild.test")
		out, err := exec.Command("go", "test", "-c", "-o", scanChildBin, "github.com/etcdscript/etcdscript/bench/scanchild").CombinedOutput()
		if err != nil {
			scanChildErr = fmt.Errorf("building bench/scanchild: %v\n%s", err, out)
		}
	})
	if scanChildErr != nil {
		b.Fatal(scanChildErr)
	}
	return scanChildBin
}

// runScanChild runs one scan child ("lua" or "official") and parses its
// report.
func runScanChild(b *testing.B, kind string, eps []string) childResult {
	cmd := exec.Command(buildScanChild(b))
	cmd.Env = append(os.Environ(), "ETCDSCRIPT_SCAN_CHILD="+kind, "ETCDSCRIPT_SCAN_ENDPOINTS="+strings.Join(eps, ","), "ETCDSCRIPT_SCAN_PREFIX="+scanPrefix)
	// Extra environment for the children, such as GOGC=50, to see how the
	// collector's pace moves the peaks.
	if extra := os.Getenv("BINDINGS_SCAN_CHILD_ENV"); extra != "" {
		cmd.Env = append(cmd.Env, strings.Fields(extra)...)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s child: %v (%s)", kind, err, out)
	}
	var res childResult
	var ns int64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "result %d %d %d %d", &res.count, &ns, &res.maxRSS, &res.baseRSS); err != nil {
		b.Fatalf("%s child said %q: %v", kind, out, err)
	}
	res.elapsed = time.Duration(ns)
	return res
}

// BenchmarkScan compares etcd.scan of 200,000 keys x 100 B with one Get
// WithPrefix of the official client: time and peak RSS, each in a fresh
// child process, alternating, one run of each per iteration.
func BenchmarkScan(b *testing.B) {
	eps := benchEndpoints(b)
	seedScan(b, eps)
	var scan, get childResult
	var scanRSS, getRSS, scanGrowth, getGrowth int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := runScanChild(b, "lua", eps)
		g := runScanChild(b, "official", eps)
		if s.count != scanKeys || g.count != scanKeys {
			b.Fatalf("counts: scan %d, get %d; want %d", s.count, g.count, scanKeys)
		}
		scan.elapsed += s.elapsed
		get.elapsed += g.elapsed
		scanRSS = max(scanRSS, s.maxRSS)
		getRSS = max(getRSS, g.maxRSS)
		scanGrowth = max(scanGrowth, s.maxRSS-s.baseRSS)
		getGrowth = max(getGrowth, g.maxRSS-g.baseRSS)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(scan.elapsed.Seconds()/n, "scan-s")
	b.ReportMetric(get.elapsed.Seconds()/n, "get-s")
	b.ReportMetric(float64(get.elapsed)/float64(scan.elapsed), "speed-ratio")
	b.ReportMetric(float64(scanRSS)/(1<<20), "scan-peak-MiB")
	b.ReportMetric(float64(getRSS)/(1<<20), "get-peak-MiB")
	// Peak RSS less the RSS right before the read: what the read itself
	// took, without the test binary's own weight (it links an etcd server).
	b.ReportMetric(float64(scanGrowth)/(1<<20), "scan-growth-MiB")
	b.ReportMetric(float64(getGrowth)/(1<<20), "get-growth-MiB")
}

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cannedKV answers Put and Get at once with fixed responses, so that a
// benchmark measures the bindings alone.
type cannedKV struct {
	client.KV
	put *client.PutResponse
	get *client.GetResponse
}

func (k *cannedKV) Put(ctx context.Context, key, val string, opts ...client.OpOption) (*client.PutResponse, error) {
	return k.put, nil
}

func (k *cannedKV) Get(ctx context.Context, key string, opts ...client.OpOption) (*client.GetResponse, error) {
	return k.get, nil
}

// BenchmarkBindingOverhead measures what etcd.put and etcd.get cost beyond
// the client call, against a KV that answers at once: one op is a put and
// a get from a Lua loop.
func BenchmarkBindingOverhead(b *testing.B) {
	hdr := &pb.ResponseHeader{ClusterId: 0x1234567890abcdef, MemberId: 0xfedcba0987654321, Revision: 123456, RaftTerm: 7}
	kv := &cannedKV{
		put: &client.PutResponse{Header: hdr},
		get: &client.GetResponse{Header: hdr, Count: 1, Kvs: []*mvccpb.KeyValue{{
			Key: []byte("bench/lua/1"), Value: []byte("value-0123456789-0123456789-0123456789"),
			CreateRevision: 123000, ModRevision: 123456, Version: 3,
		}}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := &luart.Runtime{Ctx: ctx, CallTimeout: benchCallTimeout, Loop: luart.NewLoop()}
	mod := bindings.New(rt, bindings.Backend{KV: kv})
	defer mod.Close()
	L := lua.NewState()
	defer L.Close()
	mod.Install(L)
	fn, err := L.LoadString(`
		local n = ...
		local put, get = etcd.put, etcd.get
		for i = 1, n do
			put("bench/lua/1", "value-0123456789-0123456789-0123456789")
			local kv = get("bench/lua/1")
		end
	`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	L.Push(fn)
	L.Push(lua.LNumber(b.N))
	if err := L.PCall(1, 0, nil); err != nil {
		b.Fatal(err)
	}
}
