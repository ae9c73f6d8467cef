package bench

import (
	"slices"
	"strings"
)

// OursWords name our side of a comparison in a benchmark's name.
var OursWords = []string{"ours", "lua", "etcdscript"}

// BaselineWords name the baseline of a comparison, the first one present
// in a group being the one the ratio is taken against.
var BaselineWords = []string{"official", "clientv3", "go", "etcdctl", "baseline"}

// Comparison is a set of benchmarks that differ only in the implementation
// element of their names.
type Comparison struct {
	// Group is the shared name, with the implementation element written
	// as key=* (or * for a bare word).
	Group string
	// Key is the element's key ("client" in client=ours), empty for a bare word.
	Key string
	// Ours and Base are the values of our side and of the baseline.
	Ours, Base string
	// Others are the group's other values, in the order first seen.
	Others []string
	// Names maps each value to the full benchmark name.
	Names map[string]string
}

// Grouping is how Pair arranged a list of benchmark names.
type Grouping struct {
	// Comparisons in the order their first benchmark appears.
	Comparisons []Comparison
	// Alone are the names that belong to no comparison, in input order.
	Alone []string
}

type candidate struct {
	group, key, value string
}

// candidates lists every way name could belong to a comparison: one per
// key=value element (after the top-level name) and one per bare element
// that is a known word.
func candidates(name string) []candidate {
	elems := strings.Split(name, "/")
	var out []candidate
	for i := 1; i < len(elems); i++ {
		e := elems[i]
		key, value, isKV := strings.Cut(e, "=")
		repl := "*"
		switch {
		case isKV && key != "" && value != "":
			repl = key + "=*"
		case !isKV && (slices.Contains(OursWords, e) || slices.Contains(BaselineWords, e)):
			key, value = "", e
		default:
			continue
		}
		g := slices.Clone(elems)
		g[i] = repl
		out = append(out, candidate{group: strings.Join(g, "/"), key: key, value: value})
	}
	return out
}

// Pair arranges benchmark names into comparisons of our implementation
// against a baseline (see the package documentation for the naming rule).
// A name joins the first of its candidate groups that holds both one of
// OursWords and one of BaselineWords; names of no such group stay alone.
func Pair(names []string) Grouping {
	type groupInfo struct {
		key    string
		values []string
		names  map[string]string
		first  int
	}
	groups := map[string]*groupInfo{}
	for i, n := range names {
		for _, c := range candidates(n) {
			g := groups[c.group]
			if g == nil {
				g = &groupInfo{key: c.key, names: map[string]string{}, first: i}
				groups[c.group] = g
			}
			if _, dup := g.names[c.value]; !dup {
				g.values = append(g.values, c.value)
				g.names[c.value] = n
			}
		}
	}
	pick := func(values, words []string) string {
		for _, w := range words {
			if slices.Contains(values, w) {
				return w
			}
		}
		return ""
	}
	var res Grouping
	placed := map[string]bool{}
	made := map[string]bool{}
	for _, n := range names {
		if placed[n] {
			continue
		}
		joined := false
		for _, c := range candidates(n) {
			g := groups[c.group]
			ours, base := pick(g.values, OursWords), pick(g.values, BaselineWords)
			if ours == "" || base == "" {
				continue
			}
			joined = true
			if !made[c.group] {
				made[c.group] = true
				cmp := Comparison{Group: c.group, Key: g.key, Ours: ours, Base: base, Names: g.names}
				for _, v := range g.values {
					if v != ours && v != base {
						cmp.Others = append(cmp.Others, v)
					}
				}
				for _, member := range g.names {
					placed[member] = true
				}
				res.Comparisons = append(res.Comparisons, cmp)
			}
			break
		}
		if !joined {
			res.Alone = append(res.Alone, n)
		}
	}
	return res
}

// UnitOurs and UnitBase are the prefixes that mark a benchmark's own units
// as our side and the baseline, for benchmarks that measure both in one
// run and report them side by side: lua-ns/pair against go-ns/pair,
// scan-peak-MiB against get-peak-MiB.
var (
	UnitOurs = append(slices.Clone(OursWords), "scan")
	UnitBase = append(slices.Clone(BaselineWords), "get")
)

// UnitPair is one measure reported for both sides by the same benchmark.
type UnitPair struct {
	// Measure is the unit without the side's prefix ("ns/pair").
	Measure string
	// Ours and Base are the full units ("lua-ns/pair", "go-ns/pair").
	Ours, Base string
}

// PairUnits finds the units that come in pairs word-measure, one word of
// UnitOurs and one of UnitBase with the same measure. The rest are
// returned alone, both in the order given.
func PairUnits(units []string) (pairs []UnitPair, alone []string) {
	split := func(u string) (word, measure string) {
		w, m, ok := strings.Cut(u, "-")
		if !ok || m == "" {
			return "", ""
		}
		return w, m
	}
	byMeasure := map[string]map[string]string{} // measure -> word -> unit
	for _, u := range units {
		if w, m := split(u); w != "" {
			if byMeasure[m] == nil {
				byMeasure[m] = map[string]string{}
			}
			byMeasure[m][w] = u
		}
	}
	used := map[string]bool{}
	for _, u := range units {
		w, m := split(u)
		if w == "" || !slices.Contains(UnitOurs, w) || used[u] {
			continue
		}
		for _, bw := range UnitBase {
			if bu, ok := byMeasure[m][bw]; ok && !used[bu] {
				pairs = append(pairs, UnitPair{Measure: m, Ours: u, Base: bu})
				used[u], used[bu] = true, true
				break
			}
		}
	}
	for _, u := range units {
		if !used[u] {
			alone = append(alone, u)
		}
	}
	return pairs, alone
}
