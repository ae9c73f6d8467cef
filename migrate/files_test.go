package migrate

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadDirTestFiles checks that a test file of `etcdscript test` may sit
// beside the migrations, and that a versioned name stays a migration.
func TestLoadDirTestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"0001_a.lua", "migrations_test.lua", "0002_fix_test.lua"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("return {}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	if len(names) != 2 || names[0] != "0001_a.lua" || names[1] != "0002_fix_test.lua" {
		t.Fatalf("LoadDir = %v, want [0001_a.lua 0002_fix_test.lua]", names)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.lua"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil {
		t.Fatal("LoadDir accepted notes.lua, which is neither a migration nor a test")
	}
}
