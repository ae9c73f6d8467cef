package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/etcdscript/etcdscript/bench"
)

// goBench is one run of a compiled test binary's benchmarks.
type goBench struct {
	bin     string   // the test binary
	dir     string   // the package directory, where go test would run it
	pattern string   // -test.bench
	args    []string // further flags
	rawFile string   // where the raw output is kept
}

// run runs the benchmarks count times, each round a process of its own,
// echoing their output to log, and parses it. Rounds rather than
// -test.count: go test repeats each benchmark count times in a row, so on
// a machine whose speed drifts the side measured first would be measured
// in other conditions than its baseline.
func (g goBench) run(log io.Writer, count int, benchtime string) (*bench.Output, error) {
	args := []string{"-test.run", "^$", "-test.bench", g.pattern, "-test.benchmem",
		"-test.count", "1", "-test.benchtime", benchtime, "-test.timeout", "30m"}
	var out bytes.Buffer
	var runErr error
	for range max(count, 1) {
		cmd := exec.Command(g.bin, append(args, g.args...)...)
		cmd.Dir = g.dir
		cmd.Stdout = io.MultiWriter(&out, log)
		cmd.Stderr = log
		if err := cmd.Run(); err != nil {
			runErr = err
			break
		}
	}
	if g.rawFile != "" {
		if err := os.WriteFile(g.rawFile, out.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	parsed, err := bench.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(g.bin), err)
	}
	if runErr != nil {
		// Keep what ran: a failing benchmark must not hide the others'
		// figures, but the report says it failed.
		return parsed, fmt.Errorf("%s %s: %w%s", filepath.Base(g.bin), g.pattern, runErr, tail(out.Bytes()))
	}
	return parsed, nil
}

// renderGoBench writes the tables of a go test benchmark run: one table per
// comparison family (ours against a baseline, bench.Pair), then the
// benchmarks that compare with nothing.
func renderGoBench(out *bench.Output) string {
	sums := out.Summarise()
	byName := map[string]bench.Summary{}
	var names []string
	for _, s := range sums {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	g := bench.Pair(names)
	var b strings.Builder

	type family struct {
		key, ours, base, top string
		others               []string
		rows                 [][]string
	}
	var fams []*family
	famOf := map[string]*family{}
	for _, c := range g.Comparisons {
		top, _, _ := strings.Cut(c.Group, "/")
		id := strings.Join([]string{top, c.Key, c.Ours, c.Base, strings.Join(c.Others, ",")}, "\x00")
		f := famOf[id]
		if f == nil {
			f = &family{key: c.Key, ours: c.Ours, base: c.Base, top: top, others: c.Others}
			famOf[id] = f
			fams = append(fams, f)
		}
		ours, base := byName[c.Names[c.Ours]], byName[c.Names[c.Base]]
		units := slices.Clone(ours.Units)
		for _, u := range base.Units {
			if !slices.Contains(units, u) {
				units = append(units, u)
			}
		}
		label := shortLabel(c.Group)
		for _, u := range units {
			row := []string{label, u, cell(ours.Samples[u]), cell(base.Samples[u]), ratioCell(ours.Samples[u], base.Samples[u])}
			for _, o := range c.Others {
				row = append(row, cell(byName[c.Names[o]].Samples[u]))
			}
			f.rows = append(f.rows, row)
			label = ""
		}
	}
	for _, f := range fams {
		side := func(v string) string {
			if f.key == "" {
				return v
			}
			return f.key + "=" + v
		}
		fmt.Fprintf(&b, "**%s**: %s against %s\n\n", f.top, side(f.ours), side(f.base))
		t := table{head: []string{"benchmark", "unit", side(f.ours), side(f.base), "ours/baseline"}}
		for _, o := range f.others {
			t.head = append(t.head, side(o))
		}
		t.rows = f.rows
		b.WriteString(t.String())
		b.WriteString("\n")
	}
	// Benchmarks that measure both sides themselves (lua-ns/pair and
	// go-ns/pair), then whatever compares with nothing.
	inner := table{head: []string{"benchmark", "measure", "ours", "baseline", "ours/baseline"}}
	plain := table{head: []string{"benchmark", "unit", "median", "runs"}}
	for _, n := range g.Alone {
		s := byName[n]
		pairs, rest := bench.PairUnits(s.Units)
		label := n
		for _, p := range pairs {
			side := func(unit string) string {
				w, _, _ := strings.Cut(unit, "-")
				return cell(s.Samples[unit]) + " (" + w + ")"
			}
			inner.add(label, p.Measure, side(p.Ours), side(p.Base), ratioCell(s.Samples[p.Ours], s.Samples[p.Base]))
			label = ""
		}
		label = n
		for _, u := range rest {
			plain.add(label, u, cell(s.Samples[u]), fmt.Sprint(len(s.Samples[u])))
			label = ""
		}
	}
	if len(inner.rows) > 0 {
		b.WriteString("**Benchmarks that measure both sides in one run**\n\n")
		b.WriteString(inner.String())
		b.WriteString("\n")
	}
	if len(plain.rows) > 0 {
		b.WriteString("**Other figures**\n\n")
		b.WriteString(plain.String())
		b.WriteString("\n")
	}
	if len(sums) > 0 {
		runs := len(sums[0].Samples[sums[0].Units[0]])
		fmt.Fprintf(&b, "Medians of %d run(s); ±%% is the largest distance of a run from the median.\n", runs)
	}
	return b.String()
}

// shortLabel drops the top-level benchmark name and the implementation
// element from a comparison's group name.
func shortLabel(group string) string {
	elems := strings.Split(group, "/")[1:]
	var keep []string
	for _, e := range elems {
		if e == "*" || strings.HasSuffix(e, "=*") {
			continue
		}
		keep = append(keep, e)
	}
	if len(keep) == 0 {
		return "(all)"
	}
	return strings.Join(keep, "/")
}

// findMetric returns the samples of unit in the first summary whose name
// matches every one of parts, in order.
func findMetric(out *bench.Output, unit string, parts ...string) []float64 {
	for _, s := range out.Summarise() {
		rest := s.Name
		ok := true
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return s.Samples[unit]
		}
	}
	return nil
}
