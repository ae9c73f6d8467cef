package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcdscript/etcdscript/bench"
	"github.com/etcdscript/etcdscript/client"
)

const oneGetKey = "bench/oneget"

func (h *harness) oneGetSection() error {
	const title = "5. One get, whole process: etcdscript run against etcdctl get"
	eps, err := h.ensureServer()
	if err != nil {
		return h.failedSection(title, err)
	}
	es, err := h.ensureEtcdscript()
	if err != nil {
		return h.failedSection(title, err)
	}
	ctl, err := h.ensureEtcdctl()
	if err != nil {
		return h.failedSection(title, err)
	}
	value := strings.Repeat("g", 256)
	if err := putOne(eps, oneGetKey, value); err != nil {
		return h.failedSection(title, err)
	}
	script := filepath.Join(h.repo, "bench", "scripts", "get_one.lua")
	endpoints := strings.Join(eps, ",")
	sides := []struct {
		name string
		cmd  func() *exec.Cmd
		want string // what stdout must contain
		l    load
	}{
		{name: "etcdscript run get_one.lua", want: value, cmd: func() *exec.Cmd {
			return exec.Command(es, "--endpoints", endpoints, "run", script, oneGetKey)
		}},
		{name: "etcdctl get", want: value, cmd: func() *exec.Cmd {
			return exec.Command(ctl, "--endpoints="+endpoints, "get", oneGetKey)
		}},
		// Process startup alone, no etcd call: what part of the above is
		// the binary starting.
		{name: "etcdscript version (startup only)", cmd: func() *exec.Cmd { return exec.Command(es, "version") }},
		{name: "etcdctl version (startup only)", cmd: func() *exec.Cmd { return exec.Command(ctl, "version") }},
	}
	runOnce := func(i int) error {
		var out bytes.Buffer
		cmd := sides[i].cmd()
		cmd.Stdout = &out
		u, _, err := timed(cmd)
		if err != nil {
			return err
		}
		if !strings.Contains(out.String(), sides[i].want) {
			return fmt.Errorf("%s printed %q, not the value", sides[i].name, strings.TrimSpace(out.String()))
		}
		sides[i].l.add(u)
		return nil
	}
	// Warm-up: page cache and the server's first connections.
	for range 2 {
		for i := range sides {
			if err := runOnce(i); err != nil {
				return h.failedSection(title, err)
			}
		}
	}
	for i := range sides {
		sides[i].l = load{}
	}
	// Interleaved, alternating which goes first, so load that comes and
	// goes on the machine weighs on both sides alike.
	for r := range h.set.oneGetRuns {
		order := []int{0, 1, 2, 3}
		if r%2 == 1 {
			order = []int{1, 0, 3, 2}
		}
		for _, i := range order {
			if err := runOnce(i); err != nil {
				return h.failedSection(title, err)
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "One get of a 256 B value against a running server, timed as a whole process from exec to exit,\n")
	fmt.Fprintf(&b, "%d runs of each, interleaved (after 2 unmeasured runs each). Times in milliseconds.\n\n", h.set.oneGetRuns)
	t := table{head: []string{"command", "median ms", "mean ms", "min ms", "max ms", "CPU ms (median)", "peak RSS (max)"}}
	ms := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x * 1000
		}
		return out
	}
	for _, s := range sides {
		lo, hi := bench.Spread(ms(s.l.wall))
		_, rss := bench.Spread(s.l.rss)
		t.add(s.name, bench.FormatNumber(bench.Median(ms(s.l.wall))), bench.FormatNumber(bench.Mean(ms(s.l.wall))),
			bench.FormatNumber(lo), bench.FormatNumber(hi), bench.FormatNumber(bench.Median(ms(s.l.cpu))), mib(int64(rss)))
	}
	b.WriteString(t.String())
	ours, base := sides[0].l, sides[1].l
	med := bench.Ratio(bench.Median(ours.wall), bench.Median(base.wall))
	mean := bench.Ratio(bench.Mean(ours.wall), bench.Mean(base.wall))
	fmt.Fprintf(&b, "\netcdscript/etcdctl: median %s, mean %s (goal: at most 1.0x); peak RSS %s.\n",
		bench.FormatRatio(med), bench.FormatRatio(mean), ratioCell(ours.rss, base.rss))
	fmt.Fprintf(&b, "Startup alone (`version`): median %s.\n", ratioCell(sides[2].l.wall, sides[3].l.wall))
	h.rep.section(title, b.String())
	h.rep.headline(headline{what: "one get, whole process: etcdscript run vs etcdctl get (median ms)",
		ours: bench.FormatNumber(bench.Median(ours.wall) * 1000), base: bench.FormatNumber(bench.Median(base.wall) * 1000),
		ratio: bench.FormatRatio(med), goal: "<= 1.0x", verdict: verdict(med, 1.0, true)})
	return nil
}

// putOne writes the key the one-get runs read.
func putOne(eps []string, key, value string) error {
	cli, err := client.New(client.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, key, value); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return nil
}
