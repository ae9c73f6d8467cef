package scanchild_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
)

// The child's protocol: ETCDSCRIPT_SCAN_CHILD is "lua" or "official";
// ETCDSCRIPT_SCAN_ENDPOINTS and ETCDSCRIPT_SCAN_PREFIX name the server and
// the keys. The child prints one line, "result <keys> <ns> <peak RSS>
// <RSS before the read>" (bytes), or "error ..." and exits 1.
const (
	kindEnv      = "ETCDSCRIPT_SCAN_CHILD"
	endpointsEnv = "ETCDSCRIPT_SCAN_ENDPOINTS"
	prefixEnv    = "ETCDSCRIPT_SCAN_PREFIX"
)

func TestMain(m *testing.M) {
	switch os.Getenv(kindEnv) {
	case "":
		os.Exit(m.Run())
	case "lua":
		report(scanLua())
	case "official":
		report(getOfficial())
	default:
		report(0, 0, 0, fmt.Errorf("unknown child %q", os.Getenv(kindEnv)))
	}
}

func report(n int64, elapsed time.Duration, base int64, err error) {
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Printf("result %d %d %d %d\n", n, elapsed.Nanoseconds(), peakRSS(), base)
	os.Exit(0)
}

// scanLua counts the keys of the prefix with etcd.scan in a script run by
// the engine, as an embedding program or `etcdscript run` would.
func scanLua() (int64, time.Duration, int64, error) {
	eps := strings.Split(os.Getenv(endpointsEnv), ",")
	cli, err := client.New(client.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
	if err != nil {
		return 0, 0, 0, err
	}
	defer cli.Close()
	ctx := context.Background()
	// Connect first, as the official side does.
	if _, err := cli.Get(ctx, "bench/none"); err != nil {
		return 0, 0, 0, err
	}
	var out bytes.Buffer
	e, err := engine.New(engine.Config{Client: cli, Stdout: &out, Stderr: os.Stderr})
	if err != nil {
		return 0, 0, 0, err
	}
	defer e.Close()
	const script = `
		local n = 0
		for kv in etcd.scan(arg[1], {prefix = true}) do
			n = n + 1
		end
		print(n)
	`
	base := currentRSS()
	start := time.Now()
	if _, err := e.RunString(ctx, "scan.lua", script, []string{os.Getenv(prefixEnv)}); err != nil {
		return 0, 0, 0, err
	}
	elapsed := time.Since(start)
	n, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
	return n, elapsed, base, err
}

// getOfficial reads the prefix with one Get WithPrefix of the official
// client.
func getOfficial() (int64, time.Duration, int64, error) {
	eps := strings.Split(os.Getenv(endpointsEnv), ",")
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second})
	if err != nil {
		return 0, 0, 0, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.Get(ctx, "bench/none"); err != nil {
		return 0, 0, 0, err
	}
	base := currentRSS()
	start := time.Now()
	resp, err := cli.Get(ctx, os.Getenv(prefixEnv), clientv3.WithPrefix())
	if err != nil {
		return 0, 0, 0, err
	}
	return int64(len(resp.Kvs)), time.Since(start), base, nil
}

// currentRSS returns the process's resident set size in bytes, from
// /proc/self/statm (0 where that is not available).
func currentRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// peakRSS returns the process's peak resident set size in bytes: VmHWM of
// /proc/self/status. (getrusage's ru_maxrss would not do: Linux carries
// the parent's peak over fork and exec, so a child of a big benchmark
// process would report the parent's.)
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
