// Command benchrun reruns every benchmark of etcdscript side by side and
// writes BENCHMARKS.md. bench/run.sh (make bench) starts it from the
// repository root:
//
//	go run ./bench/cmd/benchrun [-quick] [-o BENCHMARKS.md] [-sections client,bindings,putmany,oneget]
//
// It builds the etcdscript binary, the test binaries of client/, bindings/
// and bench/, and etcdctl (once, from the Go module proxy, cached), then:
//
//   - client: our client against the official one (client/bench_test.go,
//     client/watch_bench_test.go), whose server is a child process;
//   - bindings: the Lua bindings' benchmarks (bindings/bench_test.go),
//     whatever names exist;
//   - putmany: `etcdscript run` of bench/scripts/put_many.lua against the best
//     plain Go loop on the official client (bench/putloop_test.go) and a
//     shell loop of `etcdctl put`, on one etcd server in a child process;
//   - oneget: `etcdscript run` of bench/scripts/get_one.lua against `etcdctl
//     get`, whole processes, interleaved, with `version` of each beside
//     them to show what process startup alone costs.
//
// Every figure is reported as a ratio ours/baseline next to the raw numbers.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/etcdscript/etcdscript/bench"
)

// settings are the knobs of one run; -quick shrinks them all to check the
// harness end to end in two or three minutes, not to measure.
type settings struct {
	count       int    // rounds of the go test benchmarks, a process each
	benchtime   string // -test.benchtime of the go test benchmarks
	pmKeys      int    // keys of one put_many load
	pmValue     int    // bytes per value
	pmRuns      int    // measured loads of each side
	ctlPuts     int    // etcdctl puts in the shell loop
	oneGetRuns  int    // runs of each one-get process
	bindingsPat string // -test.bench for bindings/
}

var allSections = []string{"client", "bindings", "engine", "putmany", "oneget"}

type harness struct {
	repo     string
	work     string
	rawDir   string
	cacheDir string
	set      settings
	log      io.Writer
	rep      *report

	etcdscript string
	etcdctl    string
	benchTest  string
	srv        *server
	cpuNoted   bool
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "benchrun: "+format+"\n", args...)
}

func main() {
	if os.Getenv(serverEnv) != "" {
		os.Exit(serve())
	}
	os.Exit(run())
}

func run() int {
	var (
		out      = flag.String("o", "BENCHMARKS.md", "the report to write")
		quick    = flag.Bool("quick", false, "tiny settings: check the harness, do not trust the figures")
		sections = flag.String("sections", strings.Join(allSections, ","), "sections to run, comma-separated: "+strings.Join(allSections, ", "))
		rawDir   = flag.String("raw", "", "directory for the raw outputs (default: a new temporary directory)")
		cache    = flag.String("cache", defaultCache(), "directory where etcdctl is built once and kept")
		count    = flag.Int("count", 0, "rounds of the go test benchmarks, each a process of its own (default 3, quick 1)")
		btime    = flag.String("benchtime", "", "go test -benchtime (default 1s, quick 100ms)")
		pmKeys   = flag.Int("putmany-keys", 0, "keys of one put_many load (default 100000, quick 5000)")
		pmRuns   = flag.Int("putmany-runs", 0, "measured loads of each side (default 3, quick 1)")
		ctlPuts  = flag.Int("etcdctl-puts", 0, "etcdctl puts timed in a shell loop (default 200, quick 10)")
		oneGet   = flag.Int("oneget-runs", 0, "runs of each one-get process (default 30, quick 5)")
		bindPat  = flag.String("bindings-bench", ".", "-bench pattern for bindings/")
	)
	flag.Parse()

	set := settings{count: 3, benchtime: "1s", pmKeys: 100_000, pmValue: 256, pmRuns: 3, ctlPuts: 200, oneGetRuns: 30, bindingsPat: *bindPat}
	if *quick {
		set = settings{count: 1, benchtime: "100ms", pmKeys: 5000, pmValue: 256, pmRuns: 1, ctlPuts: 10, oneGetRuns: 5, bindingsPat: *bindPat}
	}
	override := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	override(&set.count, *count)
	override(&set.pmKeys, *pmKeys)
	override(&set.pmRuns, *pmRuns)
	override(&set.ctlPuts, *ctlPuts)
	override(&set.oneGetRuns, *oneGet)
	if *btime != "" {
		set.benchtime = *btime
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allSections, s) {
			fmt.Fprintf(os.Stderr, "benchrun: unknown section %q (have %s)\n", s, strings.Join(allSections, ", "))
			return 2
		}
		want[s] = true
	}

	repo, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun: run me from the repository root (bench/run.sh does)")
		return 2
	}
	work, err := os.MkdirTemp("", "benchrun-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}
	defer os.RemoveAll(work)
	if *rawDir == "" {
		*rawDir, err = os.MkdirTemp("", "benchrun-raw-")
	} else {
		err = os.MkdirAll(*rawDir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}

	h := &harness{repo: repo, work: work, rawDir: *rawDir, cacheDir: *cache, set: set, log: os.Stderr,
		rep: &report{started: time.Now(), loadStart: loadAvg()}}
	h.rep.settings = []string{
		fmt.Sprintf("go test benchmarks: %d round(s), each a process running every benchmark once (-count 1), -benchtime %s", set.count, set.benchtime),
		fmt.Sprintf("put_many %d keys x %d B, %d run(s) a side", set.pmKeys, set.pmValue, set.pmRuns),
		fmt.Sprintf("%d etcdctl puts", set.ctlPuts),
		fmt.Sprintf("%d one-get runs a side", set.oneGetRuns),
	}
	if *quick {
		h.rep.quick = true
		h.rep.settings = append(h.rep.settings, "**-quick: a check of the harness, not a measurement**")
	}
	h.rep.versions = append(h.rep.versions, "etcd server\tgo.etcd.io/etcd/server/v3 "+serverVersion()+
		" embedded by tests/etcdtest (one member, its defaults: fsync off, 10 ms heartbeat), in a child process of each section")
	h.rep.notes = append(h.rep.notes,
		"Raw `go test` outputs are kept in the directory given by -raw (a temporary one by default, named at the end of the run); `benchstat` reads them.",
		"Each figure is a median over the runs; ±% is the largest distance of a run from that median. The machine's load average is in the table above: under load, compare only ratios.")

	failed := false
	for _, s := range allSections {
		if !want[s] {
			continue
		}
		t0 := time.Now()
		h.logf("section %s", s)
		var err error
		switch s {
		case "client":
			err = h.clientSection()
		case "bindings":
			err = h.bindingsSection()
		case "engine":
			err = h.engineSection()
		case "putmany":
			err = h.putManySection()
		case "oneget":
			err = h.oneGetSection()
		}
		if err != nil {
			failed = true
			h.logf("section %s failed: %v", s, err)
		}
		h.logf("section %s took %s", s, time.Since(t0).Round(time.Second))
	}
	if h.srv != nil {
		h.srv.stop()
	}

	if err := os.WriteFile(*out, []byte(h.rep.markdown(repo)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 1
	}
	h.logf("wrote %s in %s; raw outputs in %s", *out, time.Since(h.rep.started).Round(time.Second), *rawDir)
	if failed {
		return 1
	}
	return 0
}

func defaultCache() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "etcdscript-bench")
	}
	return filepath.Join(os.TempDir(), "etcdscript-bench")
}

// ensureServer starts the etcd server child shared by putmany and oneget.
func (h *harness) ensureServer() ([]string, error) {
	if h.srv == nil {
		s, err := startServer()
		if err != nil {
			return nil, err
		}
		h.srv = s
	}
	return h.srv.endpoints, nil
}

func (h *harness) ensureEtcdscript() (string, error) {
	if h.etcdscript == "" {
		bin := filepath.Join(h.work, "etcdscript")
		h.logf("building etcdscript")
		if err := buildBinary(h.repo, "./cmd/etcdscript", bin); err != nil {
			return "", err
		}
		h.etcdscript = bin
	}
	return h.etcdscript, nil
}

func (h *harness) ensureEtcdctl() (string, error) {
	if h.etcdctl == "" {
		bin, err := etcdctl(h.cacheDir, h.logf)
		if err != nil {
			return "", err
		}
		h.etcdctl = bin
		if out, err := runOutput(bin, "version"); err == nil {
			h.rep.versions = append(h.rep.versions, "etcdctl\t"+strings.ReplaceAll(strings.TrimSpace(out), "\n", ", ")+" (built from the Go module proxy)")
		}
	}
	return h.etcdctl, nil
}

// failedSection records a section that could not run, and returns err.
func (h *harness) failedSection(title string, err error) error {
	h.rep.section(title, "**Not measured**: "+strings.ReplaceAll(err.Error(), "\n", " ")+"\n")
	return err
}

func (h *harness) clientSection() error {
	const title = "1. Our client against the official client (client/)"
	bin := filepath.Join(h.work, "client.test")
	h.logf("building client tests")
	if _, err := buildTest(h.repo, "./client", bin); err != nil {
		return h.failedSection(title, err)
	}
	g := goBench{bin: bin, dir: filepath.Join(h.repo, "client"), pattern: "^(BenchmarkKV|BenchmarkWatch.*)$",
		rawFile: filepath.Join(h.rawDir, "client.txt")}
	out, runErr := g.run(h.log, h.set.count, h.set.benchtime)
	if out == nil {
		return h.failedSection(title, runErr)
	}
	var b strings.Builder
	b.WriteString("`go test ./client -run '^$' -bench '^(BenchmarkKV|BenchmarkWatch.*)$' -benchmem`: both clients\n")
	b.WriteString("(and, as a floor, bare generated gRPC stubs: client=raw) against one etcd server in a child\n")
	b.WriteString("process, so cpu-ns/op is the client's own CPU. Puts and gets of 256 B values, one at a time\n")
	b.WriteString("and 64 in flight (on one client, and spread over 8 clients of one connection each, clients=8);\n")
	b.WriteString("gc/Mop: garbage collections per million ops; gc-cpu-ns/op: the CPU the collector used per op,\n")
	b.WriteString("as the Go runtime estimates it (part of cpu-ns/op). In processes this small the collections are a\n")
	b.WriteString("good share of cpu-ns/op, and how often they run follows the heap the clients keep as much as what\n")
	b.WriteString("each op allocates: the official client keeps about 450 KiB per client (its logger's sampler), so\n")
	b.WriteString("with 8 clients its collector runs about half as often. heap=64MiB: the same 8 clients in a\n")
	b.WriteString("process that also holds a 64 MiB heap of its own, as a program embedding a client does; its\n")
	b.WriteString("heap, not the clients', then sets how often the collector runs. Each side opens its own clients\n")
	b.WriteString("for its run, and the sides of one comparison run next to each other, in each of the rounds.\n")
	b.WriteString("watch: events/s received, live (while a writer writes) and replay (history written before the\n")
	b.WriteString("watch starts).\n\n")
	if runErr != nil {
		fmt.Fprintf(&b, "**Some benchmarks failed**: %s\n\n", oneLine(runErr))
	}
	b.WriteString(renderGoBench(out))
	h.rep.section(title, b.String())

	h.noteCPU(out)
	// Issue 12's goals at 64 in flight: at least the official client's
	// throughput (so at most its ns/op) for at most 0.9x its CPU per op.
	goals := map[string]float64{"ns/op": 1.0, "cpu-ns/op": 0.9}
	for _, op := range []string{"put", "get"} {
		for _, c := range []struct {
			what, name string
			goal       bool
		}{
			{"1 in flight", "inflight=1", false},
			{"64 in flight", "inflight=64/clients=1", true},
			{"64 in flight on 8 clients", "inflight=64/clients=8", true},
			{"64 in flight on 8 clients, host heap 64 MiB", "inflight=64/clients=8/heap=64MiB", false},
		} {
			for _, unit := range []string{"ns/op", "cpu-ns/op"} {
				name := "BenchmarkKV/" + op + "/" + c.name + "/client="
				ours := findMetric(out, unit, name+"ours")
				off := findMetric(out, unit, name+"official")
				if len(ours) == 0 || len(off) == 0 {
					continue
				}
				hl := headline{what: "client " + op + ", " + c.what + " (" + unit + ")", ours: cell(ours), base: "official " + cell(off),
					ratio: ratioCell(ours, off)}
				if c.goal {
					hl.goal = "<= " + bench.FormatRatio(goals[unit])
					hl.verdict = verdict(bench.Ratio(bench.Median(ours), bench.Median(off)), goals[unit], true)
				}
				h.rep.headline(hl)
			}
		}
	}
	for _, mode := range []string{"live", "replay"} {
		ours := findMetric(out, "events/s", "BenchmarkWatch", mode+"/client=ours")
		off := findMetric(out, "events/s", "BenchmarkWatch", mode+"/client=official")
		if len(ours) > 0 && len(off) > 0 {
			h.rep.headline(headline{what: "watch " + mode + " (events/s)", ours: cell(ours), base: "official " + cell(off), ratio: ratioCell(ours, off)})
		}
	}
	return runErr
}

func (h *harness) bindingsSection() error {
	const title = "2. Lua bindings (bindings/)"
	intro := fmt.Sprintf("`go test ./bindings -run '^$' -bench '%s' -benchmem`: Lua loops against Go loops, watch\n", h.set.bindingsPat) +
		"events into Lua, a scan of 200,000 keys against the official client's Get WithPrefix (time and\n" +
		"peak RSS, each side in a fresh process of bench/scanchild, which links the engine and both clients but\n" +
		"no etcd server), as bindings/bench_test.go defines them.\n\n"
	out, b, runErr := h.benchPackage(title, "bindings", h.set.bindingsPat, intro)
	if out == nil {
		return h.failedSection(title, runErr)
	}
	if len(out.Results) == 0 {
		b.WriteString("**Pending**: bindings/bench_test.go has no benchmarks yet.\n")
		h.rep.headline(headline{what: "Lua bindings (bindings/bench_test.go)", ours: "pending", ratio: "n/a"})
	} else {
		b.WriteString(renderGoBench(out))
		h.noteCPU(out)
		h.bindingsHeadlines(out)
	}
	h.rep.section(title, b.String())
	return runErr
}

// benchPackage builds the tests of ./pkg and runs its benchmarks matching
// pattern. It returns their output (nil when nothing ran) and the start of
// the section's text: intro, and a line when some benchmarks failed.
func (h *harness) benchPackage(title, pkg, pattern, intro string) (*bench.Output, *strings.Builder, error) {
	bin := filepath.Join(h.work, pkg+".test")
	h.logf("building %s tests", pkg)
	if _, err := buildTest(h.repo, "./"+pkg, bin); err != nil {
		return nil, nil, err
	}
	g := goBench{bin: bin, dir: filepath.Join(h.repo, pkg), pattern: pattern,
		rawFile: filepath.Join(h.rawDir, pkg+".txt")}
	out, runErr := g.run(h.log, h.set.count, h.set.benchtime)
	if out == nil {
		return nil, nil, runErr
	}
	b := &strings.Builder{}
	b.WriteString(intro)
	if runErr != nil {
		fmt.Fprintf(b, "**Some benchmarks failed**: %s\n\n", oneLine(runErr))
	}
	return out, b, runErr
}

// engineSection measures what a run's limits cost a pure-Lua workload
// (string building, tables, sorting, patterns): gopher-lua's stock
// built-ins, ours with their deadline and size checks, and ours with the
// memory budget's sampler too, run by turns in one process.
func (h *harness) engineSection() error {
	const title = "3. Limits of a run (engine/)"
	intro := "`go test ./engine -run '^$' -bench '^BenchmarkPureLua$' -benchmem`: one pure-Lua workload\n" +
		"(strings, tables, table.sort, table.concat, patterns) run by turns with gopher-lua's stock built-ins\n" +
		"(stock: no deadline or size checks, as before the limits), with ours (checks), and with ours and\n" +
		"the memory budget's heap sampler (budget). BenchmarkKVLoopBudget in section 2 does the same for\n" +
		"the Lua loop of put+get.\n\n"
	out, b, runErr := h.benchPackage(title, "engine", "^BenchmarkPureLua$", intro)
	if out == nil {
		return h.failedSection(title, runErr)
	}
	b.WriteString(renderGoBench(out))
	for _, s := range out.Summarise() {
		stock, checks, budget := s.Samples["stock-ns/run"], s.Samples["checks-ns/run"], s.Samples["budget-ns/run"]
		if len(stock) > 0 && len(budget) > 0 {
			h.rep.headline(headline{what: "pure Lua with the limits against stock gopher-lua (ns/run)", ours: cell(budget),
				base: "stock " + cell(stock), ratio: ratioCell(budget, stock)})
		}
		if len(checks) > 0 && len(budget) > 0 {
			h.rep.headline(headline{what: "pure Lua: the budget's sampler alone (ns/run)", ours: cell(budget),
				base: "checks " + cell(checks), ratio: ratioCell(budget, checks)})
		}
	}
	h.rep.section(title, b.String())
	return runErr
}

// bindingsHeadlines puts the bindings' comparisons in the summary: for
// comparisons by name, the first unit and any rate or peak RSS; for
// benchmarks that measure both sides, every pair of units; and the rates
// (events/s) of benchmarks without a baseline.
func (h *harness) bindingsHeadlines(out *bench.Output) {
	sums := map[string]bench.Summary{}
	var names []string
	for _, s := range out.Summarise() {
		sums[s.Name] = s
		names = append(names, s.Name)
	}
	g := bench.Pair(names)
	for _, c := range g.Comparisons {
		ours, base := sums[c.Names[c.Ours]], sums[c.Names[c.Base]]
		for i, u := range ours.Units {
			lu := strings.ToLower(u)
			if i > 0 && !strings.HasSuffix(lu, "/s") && !strings.Contains(lu, "rss") && !strings.Contains(lu, "mib") {
				continue
			}
			if len(base.Samples[u]) == 0 {
				continue
			}
			h.rep.headline(headline{what: fmt.Sprintf("%s (%s)", c.Group, u), ours: cell(ours.Samples[u]),
				base: c.Base + " " + cell(base.Samples[u]), ratio: ratioCell(ours.Samples[u], base.Samples[u])})
		}
	}
	for _, n := range g.Alone {
		s := sums[n]
		pairs, rest := bench.PairUnits(s.Units)
		for _, p := range pairs {
			ow, _, _ := strings.Cut(p.Ours, "-")
			bw, _, _ := strings.Cut(p.Base, "-")
			h.rep.headline(headline{what: fmt.Sprintf("%s: %s against %s (%s)", n, ow, bw, p.Measure),
				ours: cell(s.Samples[p.Ours]), base: bw + " " + cell(s.Samples[p.Base]), ratio: ratioCell(s.Samples[p.Ours], s.Samples[p.Base])})
		}
		for _, u := range rest {
			if u == "events/s" {
				h.rep.headline(headline{what: fmt.Sprintf("%s (%s, no baseline)", n, u), ours: cell(s.Samples[u]), ratio: "n/a"})
			}
		}
	}
}

// noteCPU records the processor as go test names it (from cpuid), which
// can be more precise than /proc/cpuinfo's model name on a virtual machine.
func (h *harness) noteCPU(out *bench.Output) {
	cpu := strings.TrimSpace(out.Config["cpu"])
	if cpu == "" || h.cpuNoted {
		return
	}
	h.cpuNoted = true
	h.rep.versions = append([]string{"CPU as go test names it\t" + cpu}, h.rep.versions...)
}

func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
