package app

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"
)

// applyConfigFile fills every global flag that neither the command line nor
// the environment set from the YAML file named by --config. Keys are the
// flag names; lists may be YAML sequences or comma-separated strings;
// durations are strings like "2s" or numbers of seconds.
func applyConfigFile(c *cli.Context) error {
	path := c.String(flagConfig)
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &ioError{what: "config file", err: err}
	}
	values, err := parseConfig(data)
	if err != nil {
		return usageErrorf("config file %s: %v", path, err)
	}
	known := map[string]cli.Flag{}
	for _, f := range globalFlags() {
		known[f.Names()[0]] = f
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, ok := known[name]
		if !ok || name == flagConfig {
			return usageErrorf("config file %s: unknown setting %q", path, name)
		}
		if c.IsSet(name) {
			continue
		}
		for _, v := range values[name] {
			if _, isDur := f.(*cli.DurationFlag); isDur {
				if _, err := strconv.ParseFloat(v, 64); err == nil {
					v += "s"
				}
			}
			if err := c.Set(name, v); err != nil {
				return usageErrorf("config file %s: %s: %v", path, name, err)
			}
		}
	}
	return nil
}

// parseConfig reads the YAML mapping into flag values, each a list of
// strings (one element for scalar flags). Values are taken as written:
// decoded, YAML would turn a password 0123 into 83 and 1.50 into 1.5.
func parseConfig(data []byte) (map[string][]string, error) {
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(raw))
	for k, n := range raw {
		v := resolveAlias(&n)
		switch {
		case v.Kind == yaml.SequenceNode:
			for i, e := range v.Content {
				e = resolveAlias(e)
				if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
					return nil, fmt.Errorf("%s: item %d: want a value, got %s", k, i+1, nodeKind(e))
				}
				out[k] = append(out[k], e.Value)
			}
		case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
			if k == flagEndpoints || k == flagLib {
				out[k] = strings.Split(v.Value, ",")
			} else {
				out[k] = []string{v.Value}
			}
		case v.Kind == yaml.MappingNode:
			return nil, fmt.Errorf("%s: want a value, got a mapping", k)
		default:
			return nil, fmt.Errorf("%s has no value", k)
		}
	}
	return out, nil
}

// resolveAlias returns the node an alias (*name) stands for.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func nodeKind(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	default:
		return "no value"
	}
}
