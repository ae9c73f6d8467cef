package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzLoadDir writes a directory of fuzzed file names and contents and
// loads it: LoadDir must never panic, and what it accepts must be what was
// written, in version order, with the right checksums. The names argument
// holds one file name per line; file i gets content with i appended.
//
//	go test ./migrate -run '^$' -fuzz '^FuzzLoadDir$' -fuzztime 30s
func FuzzLoadDir(f *testing.F) {
	f.Add("0001_init.lua\n0002_more.lua", []byte("return {up = function(m) end}\n"))
	f.Add("0002_b.lua\n0001_a.lua\nREADME.md\nnotes.txt", []byte("return {}\r\n"))
	f.Add("01_a.lua\n002_b.lua", []byte("x"))
	f.Add("0001_a.lua\n0001_b.lua", []byte(""))
	f.Add("0000_zero.lua", []byte("x"))
	f.Add("init.lua", []byte("x"))
	f.Add("0001_a.lua\n0001_a.LUA\n0003_.lua\n0004_-x.lua", []byte("\xef\xbb\xbfreturn {}"))
	f.Add("99999999999999999999_big.lua", []byte("x"))
	f.Add("0001_a.b-c_d.lua\n0002_Z9.lua", []byte("a\rb\r\nc\n"))
	f.Add("0001_a.lua\nmigrations_test.lua\n0002_fix_test.lua", []byte("return {}"))
	f.Fuzz(func(t *testing.T, names string, content []byte) {
		dir := t.TempDir()
		written := map[string][]byte{}
		for i, name := range strings.Split(names, "\n") {
			if !usableName(name) {
				continue
			}
			if _, dup := written[name]; dup {
				continue
			}
			data := append(slices.Clip(content), byte('0'+i%10))
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				continue // a name this file system refuses
			}
			written[name] = data
		}
		files, err := LoadDir(dir)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("LoadDir failed with an empty message")
			}
			return
		}
		lua := 0
		for name := range written {
			if filepath.Ext(name) == ".lua" && (fileNameRE.MatchString(name) || !strings.HasSuffix(name, "_test.lua")) {
				lua++
			}
		}
		if len(files) != lua {
			t.Fatalf("LoadDir returned %d files, the directory has %d .lua files: %q", len(files), lua, names)
		}
		for i, file := range files {
			if i > 0 && files[i-1].Version >= file.Version {
				t.Fatalf("versions out of order or repeated: %d then %d", files[i-1].Version, file.Version)
			}
			if file.Version <= 0 {
				t.Fatalf("accepted version %d of %s", file.Version, file.Name())
			}
			want, ok := written[file.Name()]
			if !ok {
				t.Fatalf("LoadDir returned %s, which was not written", file.Name())
			}
			if !bytes.Equal(file.Source, want) {
				t.Fatalf("%s: source %q, wrote %q", file.Name(), file.Source, want)
			}
			if file.Checksum != Checksum(want) {
				t.Fatalf("%s: checksum %s, want %s", file.Name(), file.Checksum, Checksum(want))
			}
			if !strings.HasSuffix(file.Name(), "_"+file.Slug+".lua") {
				t.Fatalf("%s: slug %q is not the name's", file.Name(), file.Slug)
			}
		}
	})
}

// usableName reports whether name can be created as one file in a
// directory: one path element, no NUL, not too long.
func usableName(name string) bool {
	return name != "" && name != "." && name != ".." && len(name) <= 200 &&
		!strings.ContainsAny(name, "/\x00")
}

// FuzzChecksum checks the normalisation of Checksum: line endings (LF,
// CRLF, lone CR) and a leading byte order mark never change it, and it is
// SHA-256 of the normalised text.
func FuzzChecksum(f *testing.F) {
	f.Add([]byte("return {\n  up = function(m) end,\n}\n"))
	f.Add([]byte("a\r\nb\rc\n\r\n"))
	f.Add([]byte("\xef\xbb\xbf\xef\xbb\xbfx\r"))
	f.Add([]byte(""))
	f.Add([]byte("\r\r\n\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// lf is src as a text with LF line endings only.
		lf := bytes.ReplaceAll(src, []byte("\r"), nil)
		crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
		cr := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r"))
		want := Checksum(lf)
		variants := map[string][]byte{"CRLF": crlf, "CR": cr}
		if !bytes.HasPrefix(lf, bom) {
			// Only one BOM is dropped: a second one is content.
			variants["BOM+CRLF"] = append(slices.Clip(bom), crlf...)
		}
		for what, variant := range variants {
			if got := Checksum(variant); got != want {
				t.Fatalf("%s version of %q: checksum %s, LF version %s", what, lf, got, want)
			}
		}
		// The reference: one BOM dropped, CRLF then CR turned into LF.
		norm := bytes.TrimPrefix(src, bom)
		norm = bytes.ReplaceAll(norm, []byte("\r\n"), []byte("\n"))
		norm = bytes.ReplaceAll(norm, []byte("\r"), []byte("\n"))
		sum := sha256.Sum256(norm)
		if got, ref := Checksum(src), "sha256-lf:"+hex.EncodeToString(sum[:]); got != ref {
			t.Fatalf("Checksum(%q) = %s, want %s", src, got, ref)
		}
		// Any other change is a change.
		if Checksum(append(slices.Clip(lf), 'x')) == want {
			t.Fatalf("appending a byte to %q did not change its checksum", lf)
		}
	})
}
