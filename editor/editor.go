package editor

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed meta/*.lua luarc.json
var files embed.FS

// Files lists the files Write writes, by name.
func Files() []string {
	return []string{"meta/etcd.lua", "meta/stdlib.lua", ".luarc.json"}
}

// Read returns the content of one of Files.
func Read(name string) ([]byte, error) {
	if name == ".luarc.json" {
		name = "luarc.json"
	}
	return fs.ReadFile(files, name)
}

// Write writes the definition files and a .luarc.json into dir, creating
// it. An existing .luarc.json is kept, since the user may have edited it.
func Write(dir string) ([]string, error) {
	var written []string
	for _, name := range Files() {
		data, err := Read(name)
		if err != nil {
			return written, err
		}
		path := filepath.Join(dir, name)
		if name == ".luarc.json" {
			if _, err := os.Stat(path); err == nil {
				continue
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, fmt.Errorf("types: %w", err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return written, fmt.Errorf("types: %w", err)
		}
		written = append(written, path)
	}
	return written, nil
}
