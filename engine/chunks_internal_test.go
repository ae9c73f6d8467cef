package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestChunkCache(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.lua")
	if err := os.WriteFile(main, []byte(`return require("mod")`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mod.lua"), []byte(`return 1`), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	runOnce := func() any {
		t.Helper()
		res, err := e.RunFile(context.Background(), main, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Values[0]
	}
	runOnce()
	if h, m := e.chunks.hits.Load(), e.chunks.misses.Load(); h != 0 || m != 2 {
		t.Fatalf("first run: %d hits, %d misses; want 0 and 2", h, m)
	}
	runOnce()
	if h, m := e.chunks.hits.Load(), e.chunks.misses.Load(); h != 2 || m != 2 {
		t.Fatalf("second run: %d hits, %d misses; want 2 and 2", h, m)
	}
	// A changed module is compiled again, never served stale.
	if err := os.WriteFile(filepath.Join(dir, "mod.lua"), []byte(`return 2`), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := runOnce(); v != int64(2) {
		t.Fatalf("after the change the module returned %v, want 2", v)
	}
	if h, m := e.chunks.hits.Load(), e.chunks.misses.Load(); h != 3 || m != 3 {
		t.Fatalf("third run: %d hits, %d misses; want 3 and 3", h, m)
	}
}

func TestChunkCacheBound(t *testing.T) {
	c := newChunkCache()
	for i := range maxCachedChunks + 10 {
		if _, err := c.compile("c", []byte("return "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.protos); n != maxCachedChunks || len(c.order) != maxCachedChunks {
		t.Fatalf("cache holds %d chunks (%d in order), bound is %d", n, len(c.order), maxCachedChunks)
	}
}
