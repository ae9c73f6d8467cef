package migrate_test

import (
	"encoding/json"
	"testing"

	"github.com/etcdscript/etcdscript/migrate"
)

// TestExampleMigrations applies scripts/migrations-example to seeded data,
// checks the result, and reverts the ones that have a down.
func TestExampleMigrations(t *testing.T) {
	e := newEnv(t)
	e.put("flags/dark_mode", "on")
	e.put("flags/beta", "off")
	e.put("config/service", `{"port": 8080, "host": "db.local", "tags": ["a", "b"]}`)
	e.put("users/1", `{"name": "ann"}`)
	e.put("users/2", `{"name": "bob", "region": "us-east-1"}`)

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
		"flags/v2/dark_mode":  "on",
		"flags/v2/beta":       "off",
		"flags/dark_mode":     "<absent>",
		"config/service/port": "8080",
		"config/service/host": "db.local",
		"config/service/tags": `["a","b"]`,
		"config/service":      "<absent>",
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
	// 0003 has no down: down to 2 refuses; the others revert.
	if _, err := r.Down(e.ctx, migrate.DownOptions{}); err == nil {
		t.Fatal("down of a migration without down succeeded")
	}
	if err := r.Force(e.ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Down(e.ctx, migrate.DownOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.get("flags/dark_mode"); got != "on" {
		t.Errorf("after down, flags/dark_mode = %q", got)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(e.get("config/service")), &cfg); err != nil || cfg["host"] != "db.local" {
		t.Errorf("after down, config/service = %q (%v)", e.get("config/service"), err)
	}
}
