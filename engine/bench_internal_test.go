package engine

import (
	"context"
	"testing"
	"time"
)

// pureLuaSrc is a pure-Lua workload of the kind the built-in checks sit
// in: string building, table inserts, concat, unpack.
const pureLuaSrc = `
local parts = {}
local total = 0
for i = 1, 20000 do
  local s = string.format("%d:%s:%5.2f", i, string.rep("ab", i % 8), i / 7)
  parts[#parts + 1] = s:upper()
  if i % 1000 == 0 then
    local joined = table.concat(parts, ",")
    total = total + #joined + select("#", unpack(parts, 1, 100))
    parts = {}
  end
end
return total`

// BenchmarkPureLua runs the same pure-Lua workload three ways, in
// alternating rounds so that the machine's load hits all alike, and
// reports each one's time per run and the ratios:
//
//   - stock: gopher-lua's own string.rep, string.format, table.concat,
//     unpack, no memory budget;
//   - checks: the engine's built-ins, which look at the deadline and the
//     budget, with no budget (MaxMemory < 0);
//   - budget: the same with the default budget, its heap sampler running.
//
// checks/stock and budget/checks near 1 mean the checks cost nothing. Run
// it on a quiet machine:
//
//	go test ./engine -run '^$' -bench PureLua -benchtime 20x
func BenchmarkPureLua(b *testing.B) {
	modes := []struct {
		name   string
		stock  bool
		memory int64
	}{
		{"stock", true, -1},
		{"checks", false, -1},
		{"budget", false, 0},
	}
	engines := make([]*Engine, len(modes))
	for i, m := range modes {
		e, err := New(Config{MaxMemory: m.memory, Timeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		engines[i] = e
	}
	defer func() { stockLibs = false }()
	run := func(i int) time.Duration {
		stockLibs = modes[i].stock
		start := time.Now()
		res, err := engines[i].RunString(context.Background(), "bench.lua", pureLuaSrc, nil)
		took := time.Since(start)
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("%s: %v", modes[i].name, err)
		}
		return took
	}
	for i := range modes {
		run(i) // warm up: compile, first allocations
	}
	times := make([]time.Duration, len(modes))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range modes {
			times[i] += run(i)
		}
	}
	b.StopTimer()
	for i, m := range modes {
		b.ReportMetric(float64(times[i].Nanoseconds())/float64(b.N), m.name+"-ns/run")
	}
	b.ReportMetric(float64(times[1])/float64(times[0]), "checks/stock")
	b.ReportMetric(float64(times[2])/float64(times[1]), "budget/checks")
}
