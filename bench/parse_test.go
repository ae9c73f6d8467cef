package bench

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/etcdscript/etcdscript/client
cpu: AMD EPYC 7B13
BenchmarkKV/client=ours/put/inflight=1-2         	    2000	    412345 ns/op	     51234 cpu-ns/op	    1234 B/op	      21 allocs/op
BenchmarkKV/client=official/put/inflight=1-2     	    2000	    498765 ns/op	     61234 cpu-ns/op	    5678 B/op	      80 allocs/op
BenchmarkKV/client=raw/put/inflight=1-2          	    2000	    400000 ns/op	     40000 cpu-ns/op	     900 B/op	      15 allocs/op
some log line from a benchmark
BenchmarkWatchEvents/live/client=ours
2024/01/01 a log line in between
   50000	     20000 ns/op	     50000 events/s
BenchmarkWatchEvents/live/client=official-2 	   50000	     25000 ns/op	     40000 events/s
BenchmarkKV/client=ours/put/inflight=1-2         	    2000	    412347 ns/op	     51000 cpu-ns/op	    1234 B/op	      21 allocs/op
BenchmarkKV/client=ours/put/inflight=1-2         	    2000	    412349 ns/op	     52000 cpu-ns/op	    1234 B/op	      21 allocs/op
PASS
ok  	github.com/etcdscript/etcdscript/client	12.3s
`

func TestParse(t *testing.T) {
	out, err := Parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Config["cpu"]; got != "AMD EPYC 7B13" {
		t.Errorf("cpu = %q", got)
	}
	if len(out.Results) != 7 {
		t.Fatalf("got %d results, want 7: %+v", len(out.Results), out.Results)
	}
	r := out.Results[0]
	if r.Name != "BenchmarkKV/client=ours/put/inflight=1" || r.Procs != 2 || r.N != 2000 {
		t.Errorf("first result: %+v", r)
	}
	if !reflect.DeepEqual(r.Units, []string{"ns/op", "cpu-ns/op", "B/op", "allocs/op"}) {
		t.Errorf("units %v", r.Units)
	}
	if r.Values["cpu-ns/op"] != 51234 {
		t.Errorf("cpu-ns/op = %v", r.Values["cpu-ns/op"])
	}
	// The figures of a name printed alone come from the next result line.
	split := out.Results[3]
	if split.Name != "BenchmarkWatchEvents/live/client=ours" || split.Values["events/s"] != 50000 {
		t.Errorf("split result: %+v", split)
	}

	sums := out.Summarise()
	if len(sums) != 5 {
		t.Fatalf("got %d summaries, want 5", len(sums))
	}
	ours := sums[0]
	if len(ours.Samples["ns/op"]) != 3 {
		t.Fatalf("samples %v", ours.Samples)
	}
	if m, _ := ours.Median("cpu-ns/op"); m != 51234 {
		t.Errorf("median cpu-ns/op = %v, want 51234", m)
	}
	if _, ok := ours.Median("events/s"); ok {
		t.Error("median of a unit with no samples reported ok")
	}
}

func TestParseMalformed(t *testing.T) {
	for _, in := range []string{
		"BenchmarkX-2 100 12 ns/op 7\n",
		"BenchmarkX-2 100 twelve ns/op\n",
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) accepted a malformed result", in)
		}
	}
}

func TestPair(t *testing.T) {
	names := []string{
		"BenchmarkKV/client=ours/put/inflight=1",
		"BenchmarkKV/client=official/put/inflight=1",
		"BenchmarkKV/client=raw/put/inflight=1",
		"BenchmarkKV/client=ours/put/inflight=64",
		"BenchmarkKV/client=official/put/inflight=64",
		"BenchmarkLoop/lua",
		"BenchmarkLoop/go",
		"BenchmarkLonely/client=ours",
		"BenchmarkStart1",
	}
	g := Pair(names)
	want := []Comparison{
		{Group: "BenchmarkKV/client=*/put/inflight=1", Key: "client", Ours: "ours", Base: "official", Others: []string{"raw"}},
		{Group: "BenchmarkKV/client=*/put/inflight=64", Key: "client", Ours: "ours", Base: "official"},
		{Group: "BenchmarkLoop/*", Ours: "lua", Base: "go"},
	}
	if len(g.Comparisons) != len(want) {
		t.Fatalf("comparisons %+v", g.Comparisons)
	}
	for i, w := range want {
		c := g.Comparisons[i]
		if c.Group != w.Group || c.Key != w.Key || c.Ours != w.Ours || c.Base != w.Base || !reflect.DeepEqual(c.Others, w.Others) {
			t.Errorf("comparison %d = %+v, want %+v", i, c, w)
		}
	}
	if n := g.Comparisons[0].Names["raw"]; n != "BenchmarkKV/client=raw/put/inflight=1" {
		t.Errorf("raw name %q", n)
	}
	if !reflect.DeepEqual(g.Alone, []string{"BenchmarkLonely/client=ours", "BenchmarkStart1"}) {
		t.Errorf("alone %v", g.Alone)
	}
}

func TestStats(t *testing.T) {
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(Mean(nil)) {
		t.Error("median or mean of nothing is not NaN")
	}
	if m := Mean([]float64{1, 2, 6}); m != 3 {
		t.Errorf("mean = %v", m)
	}
	if !math.IsNaN(Ratio(1, 0)) {
		t.Error("ratio over zero is not NaN")
	}
	if !HigherIsBetter("events/s") || HigherIsBetter("ns/op") {
		t.Error("HigherIsBetter")
	}
	for v, want := range map[float64]string{1234567.4: "1,234,567", 12.345: "12.3", 0.001234: "0.00123", 0: "0", math.NaN(): "n/a", -4321: "-4,321"} {
		if got := FormatNumber(v); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", v, got, want)
		}
	}
	if got := FormatRatio(2612.7); got != "2,613x" {
		t.Errorf("FormatRatio = %q", got)
	}
	if got := FormatRatio(0.8234); got != "0.823x" {
		t.Errorf("FormatRatio = %q", got)
	}
}

func TestPairUnits(t *testing.T) {
	units := []string{"ns/op", "lua-ns/pair", "go-ns/pair", "ratio", "lua-cpu-ns/pair", "go-cpu-ns/pair",
		"scan-s", "get-s", "speed-ratio", "scan-peak-MiB", "get-peak-MiB", "lua-only/s"}
	pairs, alone := PairUnits(units)
	want := []UnitPair{
		{"ns/pair", "lua-ns/pair", "go-ns/pair"},
		{"cpu-ns/pair", "lua-cpu-ns/pair", "go-cpu-ns/pair"},
		{"s", "scan-s", "get-s"},
		{"peak-MiB", "scan-peak-MiB", "get-peak-MiB"},
	}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("pairs %+v, want %+v", pairs, want)
	}
	if !reflect.DeepEqual(alone, []string{"ns/op", "ratio", "speed-ratio", "lua-only/s"}) {
		t.Errorf("alone %v", alone)
	}
}
