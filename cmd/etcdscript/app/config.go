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
// strings (one element for scalar flags).
func parseConfig(data []byte) (map[string][]string, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				out[k] = append(out[k], fmt.Sprint(e))
			}
		case string:
			if k == flagEndpoints || k == flagLib {
				out[k] = strings.Split(x, ",")
			} else {
				out[k] = []string{x}
			}
		case nil:
			return nil, fmt.Errorf("%s has no value", k)
		case map[string]any:
			return nil, fmt.Errorf("%s: want a value, got a mapping", k)
		default:
			out[k] = []string{fmt.Sprint(x)}
		}
	}
	return out, nil
}
