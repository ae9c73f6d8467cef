package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/etcdscript/etcdscript/engine"
)

// A host offers data and a Go function to its scripts through
// Config.Globals, without touching gopher-lua's stack: the function gets
// its arguments as Go values and returns Go values, and its error reaches
// the script as an error object.
func ExampleConfig_globals() {
	racks := map[string][]string{"r1": {"db-1", "db-2"}}
	var out bytes.Buffer
	e, err := engine.New(engine.Config{
		Stdout: &out,
		Globals: map[string]any{
			"site": map[string]any{"name": "fra1", "replicas": 3},
			"hosts_in": engine.Func(func(ctx context.Context, args []any) ([]any, error) {
				rack, _ := args[0].(string)
				hosts, ok := racks[rack]
				if !ok {
					return nil, fmt.Errorf("no rack %q", rack)
				}
				return []any{hosts}, nil
			}),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	_, err = e.RunString(context.Background(), "racks.lua", `
print(site.name, site.replicas)
for _, h in ipairs(hosts_in("r1")) do print(h) end
local ok, err = pcall(hosts_in, "r9")
print(err.code, err.op, err.message)
`, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(out.String(), "\t", " "))
	// Output:
	// fra1 3
	// db-1
	// db-2
	// internal hosts_in no rack "r9"
}
