package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// File is one migration file of a directory.
type File struct {
	// Version is the number the file name starts with.
	Version int64
	// Slug is the rest of the name, without the extension.
	Slug string
	// Path is the file's path.
	Path string
	// Source is the file's content.
	Source []byte
	// Checksum is Checksum(Source).
	Checksum string
}

// Name is the file's base name.
func (f File) Name() string { return filepath.Base(f.Path) }

var fileNameRE = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.lua$`)

// LoadDir reads the migrations of dir, ordered by version. Every .lua file
// must be named <version>_<slug>.lua with versions of one width (zero
// padded) and no version twice; anything else is an error naming the file,
// so a typo never makes a migration silently skipped. The one exception is
// a test file of `etcdscript test` (a name ending in _test.lua with no
// version, such as migrations_test.lua), which may sit beside the
// migrations it tests; a versioned name is a migration, whatever its end.
func LoadDir(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &IOError{Path: dir, Err: err}
	}
	var (
		files []File
		width int
		seen  = map[int64]string{}
	)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || filepath.Ext(name) != ".lua" {
			continue
		}
		m := fileNameRE.FindStringSubmatch(name)
		if m == nil && strings.HasSuffix(name, "_test.lua") {
			continue
		}
		if m == nil {
			return nil, fmt.Errorf("migration file %s: want <version>_<slug>.lua, e.g. 0001_add_flags.lua", filepath.Join(dir, name))
		}
		if width == 0 {
			width = len(m[1])
		} else if len(m[1]) != width {
			return nil, fmt.Errorf("migration file %s: version %q is %d digits wide, other files use %d (zero-pad them all to one width)", filepath.Join(dir, name), m[1], len(m[1]), width)
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: version must be a positive integer", filepath.Join(dir, name))
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration files %s and %s have the same version %d", other, name, v)
		}
		seen[v] = name
		path := filepath.Join(dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, &IOError{Path: path, Err: err}
		}
		files = append(files, File{Version: v, Slug: m[2], Path: path, Source: src, Checksum: Checksum(src)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	return files, nil
}

// IOError is a migration directory or file that could not be read.
type IOError struct {
	Path string
	Err  error
}

func (e *IOError) Error() string {
	// os errors name their path already.
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Path == e.Path {
		return "migrations: " + e.Err.Error()
	}
	return fmt.Sprintf("migrations: %s: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *IOError) Unwrap() error { return e.Err }
