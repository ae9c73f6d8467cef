package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Result is one result line of `go test -bench` output.
type Result struct {
	// Name is the benchmark's full name without the -GOMAXPROCS suffix.
	Name string
	// Procs is GOMAXPROCS as the suffix gave it (1 when there was none).
	Procs int
	// N is the number of iterations the figures are averaged over.
	N int64
	// Values maps each unit ("ns/op", "allocs/op", "events/s") to its value.
	Values map[string]float64
	// Units lists the units in the order the line printed them.
	Units []string
}

// Output is a whole `go test -bench` run, possibly of several packages and
// with -count above 1, in which case a name appears once per run.
type Output struct {
	// Config holds the "key: value" header lines (goos, goarch, pkg, cpu),
	// the last value seen for each key.
	Config  map[string]string
	Results []Result
}

var procsSuffix = regexp.MustCompile(`-([0-9]+)$`)

// Parse reads `go test -bench` output. Lines that are not results (logs,
// PASS, ok) are skipped; a result line that is malformed is an error, so a
// change of format is noticed instead of silently dropping figures.
func Parse(r io.Reader) (*Output, error) {
	out := &Output{Config: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	// pending is a benchmark name printed alone on its line: under -v, or
	// when the benchmark wrote to stdout, the figures follow on a later line.
	pending := ""
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if k, v, ok := strings.Cut(text, ": "); ok && isConfigKey(k) {
			out.Config[k] = strings.TrimSpace(v)
			continue
		}
		if strings.HasPrefix(fields[0], "Benchmark") {
			if len(fields) == 1 {
				pending = fields[0]
				continue
			}
			if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
				continue // a log line that starts with a benchmark's name
			}
			res, err := parseResult(fields[0], fields[1:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			out.Results = append(out.Results, res)
			pending = ""
			continue
		}
		if pending != "" && len(fields) >= 3 && len(fields)%2 == 1 {
			if _, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
				if res, err := parseResult(pending, fields); err == nil {
					out.Results = append(out.Results, res)
					pending = ""
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading benchmark output: %w", err)
	}
	return out, nil
}

func isConfigKey(k string) bool {
	switch k {
	case "goos", "goarch", "pkg", "cpu":
		return true
	}
	return false
}

// parseResult parses "N value unit value unit ..." for the benchmark name.
func parseResult(name string, fields []string) (Result, error) {
	res := Result{Name: name, Procs: 1, Values: map[string]float64{}}
	if m := procsSuffix.FindStringSubmatch(name); m != nil {
		p, err := strconv.Atoi(m[1])
		if err == nil && p > 0 {
			res.Name, res.Procs = strings.TrimSuffix(name, m[0]), p
		}
	}
	n, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return Result{}, fmt.Errorf("%s: iteration count %q is not an integer", name, fields[0])
	}
	res.N = n
	rest := fields[1:]
	if len(rest)%2 != 0 {
		return Result{}, fmt.Errorf("%s: figures %q are not value-unit pairs", name, strings.Join(rest, " "))
	}
	for i := 0; i < len(rest); i += 2 {
		v, err := strconv.ParseFloat(rest[i], 64)
		if err != nil {
			return Result{}, fmt.Errorf("%s: value %q of %s is not a number", name, rest[i], rest[i+1])
		}
		unit := rest[i+1]
		if _, dup := res.Values[unit]; !dup {
			res.Units = append(res.Units, unit)
		}
		res.Values[unit] = v
	}
	return res, nil
}

// Summary is the figures of one benchmark over all the runs of an Output.
type Summary struct {
	Name string
	// Units in the order the first run printed them.
	Units []string
	// Samples holds every run's value of each unit.
	Samples map[string][]float64
}

// Median returns the median of the unit's samples, and false when there
// are none.
func (s Summary) Median(unit string) (float64, bool) {
	xs := s.Samples[unit]
	if len(xs) == 0 {
		return 0, false
	}
	return Median(xs), true
}

// Summarise groups the results by name, in the order names first appear.
func (o *Output) Summarise() []Summary {
	var list []Summary
	index := map[string]int{}
	for _, r := range o.Results {
		i, ok := index[r.Name]
		if !ok {
			i = len(list)
			index[r.Name] = i
			list = append(list, Summary{Name: r.Name, Samples: map[string][]float64{}})
		}
		s := &list[i]
		for _, u := range r.Units {
			if _, seen := s.Samples[u]; !seen {
				s.Units = append(s.Units, u)
			}
			s.Samples[u] = append(s.Samples[u], r.Values[u])
		}
	}
	return list
}
