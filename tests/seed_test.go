package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
)

// TestSeedJSONLines loads 100,000 JSON lines records with
// scripts/seed/seed-jsonl.lua and checks every one landed.
func TestSeedJSONLines(t *testing.T) {
	const n = 100000
	path := filepath.Join(t.TempDir(), "users.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "{\"id\":\"%07d\",\"name\":\"user%d\",\"active\":true}\n", i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	out := enginetest.RunFile(t, "../scripts/seed/seed-jsonl.lua",
		enginetest.WithArgs(path, "users/"),
		enginetest.WithConfig(func(c *engine.Config) { c.NoSandbox = true }))
	out.MustSucceed(t)
	want := fmt.Sprintf("loaded %d records under users/", n)
	if got := out.Stdout; len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("stdout %q, want it to start with %q", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := out.Client.Get(ctx, "users/", client.WithPrefix(), client.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != n {
		t.Fatalf("%d keys under users/, want %d", resp.Count, n)
	}
	last, err := out.Client.Get(ctx, fmt.Sprintf("users/%07d", n))
	if err != nil || len(last.Kvs) != 1 || string(last.Kvs[0].Value) != fmt.Sprintf("{\"id\":\"%07d\",\"name\":\"user%d\",\"active\":true}", n, n) {
		t.Fatalf("last record: %v %v", last, err)
	}
}
