package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcdscript/etcdscript/bench"
	"github.com/etcdscript/etcdscript/client"
)

const (
	pmLuaPrefix = "bench/putmany/lua/"
	pmGoPrefix  = "bench/putmany/go/"
	ctlPrefix   = "bench/etcdctl/"
)

// errPending marks a row whose code is not there yet (etcd.put_many).
var errPending = errors.New("pending")

// load is the figures of the measured runs of one side.
type load struct {
	wall, cpu []float64 // seconds
	rss       []float64 // bytes
	err       error
}

func (l *load) add(u usage) {
	l.wall = append(l.wall, seconds(u.Wall))
	l.cpu = append(l.cpu, seconds(u.CPU))
	l.rss = append(l.rss, float64(u.MaxRSS))
}

// rate is keys per second of the median wall time.
func (l *load) rate(keys int) float64 {
	if len(l.wall) == 0 {
		return 0
	}
	return float64(keys) / bench.Median(l.wall)
}

func (h *harness) putManySection() error {
	const title = "4. Bulk load: etcd.put_many against Go and etcdctl"
	eps, err := h.ensureServer()
	if err != nil {
		return h.failedSection(title, err)
	}
	es, err := h.ensureEtcdscript()
	if err != nil {
		return h.failedSection(title, err)
	}
	ctl, ctlErr := h.ensureEtcdctl()
	if h.benchTest == "" {
		bin := filepath.Join(h.work, "bench.test")
		h.logf("building bench tests")
		if _, err := buildTest(h.repo, "./bench", bin); err != nil {
			return h.failedSection(title, err)
		}
		h.benchTest = bin
	}
	cli, err := client.New(client.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		return h.failedSection(title, err)
	}
	defer cli.Close()

	keys, size := h.set.pmKeys, h.set.pmValue
	script := filepath.Join(h.repo, "bench", "scripts", "put_many.lua")
	luaRun := func() (usage, error) {
		cmd := exec.Command(es, "--endpoints", strings.Join(eps, ","), "--command-timeout", "60s",
			"run", script, pmLuaPrefix, fmt.Sprint(keys), fmt.Sprint(size))
		u, stderr, err := timed(cmd)
		if err != nil {
			if i := strings.Index(string(stderr), "pending:"); i >= 0 {
				return u, fmt.Errorf("%w: %s", errPending, strings.TrimSpace(strings.SplitN(string(stderr[i+len("pending:"):]), "\n", 2)[0]))
			}
			return u, err
		}
		return u, h.checkLoad(cli, pmLuaPrefix, keys)
	}
	goRun := func() (usage, error) {
		cmd := exec.Command(h.benchTest, "-test.run", "^$", "-test.bench", "^BenchmarkOfficialPutMany$", "-test.benchtime", "1x",
			"-putmany.keys", fmt.Sprint(keys), "-putmany.value-bytes", fmt.Sprint(size), "-putmany.prefix", pmGoPrefix)
		cmd.Dir = filepath.Join(h.repo, "bench")
		cmd.Env = append(os.Environ(), "ETCDSCRIPT_BENCH_ENDPOINTS="+strings.Join(eps, ","))
		u, _, err := timed(cmd)
		if err != nil {
			return u, err
		}
		return u, h.checkLoad(cli, pmGoPrefix, keys)
	}

	var lua, gol load
	// One unmeasured load of each side first, so that every measured load
	// overwrites keys that exist, as the next one does.
	h.logf("put_many: warm-up loads")
	if _, err := goRun(); err != nil {
		return h.failedSection(title, fmt.Errorf("Go baseline: %w", err))
	}
	if _, err := luaRun(); err != nil {
		lua.err = err
	}
	h.compact(cli)
	for i := range h.set.pmRuns {
		h.logf("put_many: run %d of %d", i+1, h.set.pmRuns)
		u, err := goRun()
		if err != nil {
			return h.failedSection(title, fmt.Errorf("Go baseline: %w", err))
		}
		gol.add(u)
		h.compact(cli)
		if lua.err == nil {
			u, err := luaRun()
			if err != nil {
				lua.err = err
			} else {
				lua.add(u)
			}
			h.compact(cli)
		}
	}

	var ctlLoad load
	ctlPuts := h.set.ctlPuts
	if ctlErr != nil {
		ctlLoad.err = ctlErr
	} else {
		h.logf("put_many: %d etcdctl puts in a shell loop", ctlPuts)
		ctlLoad.err = h.etcdctlLoop(ctl, eps, ctlPuts, size, &ctlLoad)
		if ctlLoad.err == nil {
			ctlLoad.err = h.checkLoad(cli, ctlPrefix, ctlPuts)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%d keys x %d B into one etcd server (a child process). Wall time, CPU (user+system) and\n", keys, size)
	b.WriteString("peak RSS are of the whole client process, startup and connection included; medians of the\n")
	b.WriteString("measured loads, each after an unmeasured warm-up load, every load overwriting the same keys\n")
	b.WriteString("and followed by a compaction.\n\n")
	b.WriteString("- etcd.put_many: `etcdscript run bench/scripts/put_many.lua` (defaults: txns of 128 puts, 8 in flight, keys from a Lua iterator);\n")
	b.WriteString("- Go loop: the best plain Go loop on the official client, txns of 128 puts, 8 in flight (`BenchmarkOfficialPutMany` in bench/putloop_test.go, its test binary timed as a whole);\n")
	fmt.Fprintf(&b, "- etcdctl: a bash loop of %d `etcdctl put` processes, extrapolated to keys/s.\n\n", ctlPuts)

	t := table{head: []string{"client", "keys", "wall s", "keys/s", "CPU s", "peak RSS", "runs"}}
	row := func(name string, l load, n int) {
		switch {
		case errors.Is(l.err, errPending):
			t.add(name, bench.FormatNumber(float64(n)), "pending", "", "", "", strings.TrimPrefix(l.err.Error(), "pending: "))
		case l.err != nil:
			t.add(name, bench.FormatNumber(float64(n)), "failed", "", "", "", oneLine(l.err))
		default:
			rss := make([]float64, len(l.rss))
			for i, r := range l.rss {
				rss[i] = r / (1 << 20)
			}
			t.add(name, bench.FormatNumber(float64(n)), cell(l.wall), bench.FormatNumber(l.rate(n)), cell(l.cpu), cell(rss)+" MiB", fmt.Sprint(len(l.wall)))
		}
	}
	row("etcd.put_many (etcdscript run)", lua, keys)
	row("Go loop, official client", gol, keys)
	row("etcdctl put, bash loop", ctlLoad, ctlPuts)
	b.WriteString(t.String())
	b.WriteString("\n")

	luaRate, goRate, ctlRate := lua.rate(keys), gol.rate(keys), ctlLoad.rate(ctlPuts)
	pending := func(l load) string {
		if errors.Is(l.err, errPending) {
			return "pending"
		}
		return "failed"
	}
	if lua.err == nil && len(gol.wall) > 0 {
		r := luaRate / goRate
		fmt.Fprintf(&b, "put_many/Go loop: %s keys/s; CPU %s.\n", bench.FormatRatio(r), ratioCell(lua.cpu, gol.cpu))
		h.rep.headline(headline{what: "put_many vs Go loop on the official client (keys/s)", ours: bench.FormatNumber(luaRate),
			base: bench.FormatNumber(goRate), ratio: bench.FormatRatio(r)})
	} else {
		h.rep.headline(headline{what: "put_many vs Go loop on the official client (keys/s)", ours: pending(lua), base: bench.FormatNumber(goRate), ratio: "n/a"})
	}
	const ctlGoal = 2500
	if lua.err == nil && ctlLoad.err == nil {
		r := luaRate / ctlRate
		fmt.Fprintf(&b, "put_many/etcdctl loop: %s keys/s (goal: at least %s).\n", bench.FormatRatio(r), bench.FormatRatio(ctlGoal))
		h.rep.headline(headline{what: "put_many vs a shell loop of etcdctl put (keys/s)", ours: bench.FormatNumber(luaRate),
			base: bench.FormatNumber(ctlRate), ratio: bench.FormatRatio(r), goal: ">= 2,500x", verdict: verdict(r, ctlGoal, false)})
	} else {
		base := bench.FormatNumber(ctlRate)
		if ctlLoad.err != nil {
			base = "failed"
		}
		h.rep.headline(headline{what: "put_many vs a shell loop of etcdctl put (keys/s)", ours: pending(lua), base: base, ratio: "n/a", goal: ">= 2,500x"})
	}
	if ctlLoad.err == nil && len(gol.wall) > 0 {
		fmt.Fprintf(&b, "For scale, the Go loop against the etcdctl loop: %s keys/s.\n", bench.FormatRatio(goRate/ctlRate))
	}
	h.rep.section(title, b.String())
	if lua.err != nil && !errors.Is(lua.err, errPending) {
		return lua.err
	}
	return ctlLoad.err
}

// checkLoad makes sure a load wrote what it should have, so a fast but
// broken run never makes it into the report.
func (h *harness) checkLoad(cli *client.Client, prefix string, keys int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix, client.WithPrefix(), client.WithCountOnly())
	if err != nil {
		return fmt.Errorf("counting the keys under %s: %w", prefix, err)
	}
	if resp.Count != int64(keys) {
		return fmt.Errorf("%d keys under %s after the load, want %d", resp.Count, prefix, keys)
	}
	return nil
}

// compact drops the history of the loads so far, so that no load pays for
// an earlier one's.
func (h *harness) compact(cli *client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "bench/none")
	if err == nil {
		_, err = cli.Compact(ctx, resp.Header.Revision, client.WithCompactPhysical())
	}
	if err != nil {
		h.logf("compaction failed (the next loads pay for it): %v", err)
	}
}

// etcdctlLoop times a bash loop of n `etcdctl put` processes.
func (h *harness) etcdctlLoop(ctl string, eps []string, n, size int, l *load) error {
	loop := `v=$(printf "%0${SIZE}d" 0 | tr 0 v)
for i in $(seq 1 "$N"); do
  "$ETCDCTL" --endpoints="$EPS" put "$PREFIX$i" "$v" >/dev/null || exit 1
done`
	cmd := exec.Command("bash", "-c", loop)
	cmd.Env = append(os.Environ(), "ETCDCTL="+ctl, "EPS="+strings.Join(eps, ","), "N="+fmt.Sprint(n),
		"SIZE="+fmt.Sprint(size), "PREFIX="+ctlPrefix)
	u, _, err := timed(cmd)
	if err != nil {
		return err
	}
	l.add(u)
	return nil
}

// runOutput runs a command and returns its standard output.
func runOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
