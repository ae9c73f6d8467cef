package migrate_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/migrate"
)

// snapshotData returns every key outside the migrations' own state, with
// its value and lease, as the bytes etcd holds.
func (e *env) snapshotData() map[string]string {
	e.t.Helper()
	resp, err := e.cli.Get(e.ctx, "", client.WithFromKey())
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		if len(kv.Key) >= len("/etcdscript/") && string(kv.Key[:len("/etcdscript/")]) == "/etcdscript/" {
			continue
		}
		out[string(kv.Key)] = fmt.Sprintf("%s (lease %x)", kv.Value, kv.Lease)
	}
	return out
}

func diffData(t *testing.T, when string, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: %s is missing (was %q)", when, k, want[k])
		} else if g != want[k] {
			t.Errorf("%s: %s = %q, want %q", when, k, g, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s = %q is left over", when, k, got[k])
		}
	}
}

// TestExampleMigrations applies scripts/migrations-example to seeded data,
// checks what it did, and runs every migration up, down and up again: the
// data after down is byte for byte what it was before up, and after the
// second up what it was after the first.
func TestExampleMigrations(t *testing.T) {
	e := newEnv(t)
	e.put("flags/dark_mode", "on")
	e.put("flags/beta", "off")
	e.put("flags/v2/already", "there")
	e.put("config/service", `{"port":8080,"name":"api","tags":["a","b"],"debug":false,"limits":{"rps":1.5}}`)
	e.put("users/1", `{"name": "ann"}`)
	e.put("users/2", `{"name": "bob", "region": "us-east-1"}`)
	before := e.snapshotData()

	r, _ := e.runner(migrate.Config{Dir: "../scripts/migrations-example"})
	plan, err := r.Up(e.ctx, migrate.UpOptions{DryRun: true})
	if err != nil || len(plan) != 3 {
		t.Fatalf("dry run: %v %v", plan, err)
	}
	done, err := r.Up(e.ctx, migrate.UpOptions{})
	if err != nil || len(done) != 3 {
		t.Fatalf("up: %v %v", done, err)
	}
	checks := map[string]string{
		"flags/v2/dark_mode":    "on",
		"flags/v2/beta":         "off",
		"flags/v2/already":      "there",
		"flags/dark_mode":       "<absent>",
		"config/service/port":   "8080",
		"config/service/name":   "api",
		"config/service/tags":   `["a","b"]`,
		"config/service/debug":  "false",
		"config/service/limits": `{"rps":1.5}`,
		"config/service":        "<absent>",
	}
	for k, want := range checks {
		if got := e.get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for key, region := range map[string]string{"users/1": "eu-west-1", "users/2": "us-east-1"} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(e.get(key)), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["region"] != region {
			t.Errorf("%s region = %v, want %s", key, rec["region"], region)
		}
	}
	afterUp := e.snapshotData()

	// One step at a time, then all at once.
	for i := 0; i < 3; i++ {
		if _, err := r.Down(e.ctx, migrate.DownOptions{}); err != nil {
			t.Fatalf("down step %d: %v", i+1, err)
		}
	}
	diffData(t, "after down", e.snapshotData(), before)
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	diffData(t, "after up, down, up", e.snapshotData(), afterUp)
	if _, err := r.Down(e.ctx, migrate.DownOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	diffData(t, "after down --all", e.snapshotData(), before)
}

// TestExampleMigrationsKeepEditsMadeAfterUp: a setting or a user record
// changed after up keeps the change through down, with its JSON type.
func TestExampleMigrationsKeepEditsMadeAfterUp(t *testing.T) {
	e := newEnv(t)
	e.put("config/service", `{"port":8080,"name":"api"}`)
	e.put("users/1", `{"name": "ann"}`)
	r, _ := e.runner(migrate.Config{Dir: "../scripts/migrations-example"})
	if _, err := r.Up(e.ctx, migrate.UpOptions{}); err != nil {
		t.Fatal(err)
	}
	e.put("config/service/port", "9090")
	e.put("users/1", `{"name":"ann","region":"eu-west-1","age":3}`)
	if _, err := r.Down(e.ctx, migrate.DownOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.get("config/service"), `{"name":"api","port":9090}`; got != want {
		t.Errorf("config/service = %s, want %s", got, want)
	}
	if got, want := e.get("users/1"), `{"age":3,"name":"ann"}`; got != want {
		t.Errorf("users/1 = %s, want %s", got, want)
	}
}
