package tests

import (
	"os/exec"
	"strings"
	"testing"
)

const officialClient = "go.etcd.io/etcd/client/v3"

// TestOfficialClientIsTestOnly fails the build if non-test code imports the
// official client: it is an oracle for tests and benchmarks, never a
// dependency. The core packages may not depend on it even indirectly;
// embedetcd (and what uses it: the CLI's --embedded, enginetest, the test
// clusters of tests/etcdtest) reaches it only through etcd's own server
// packages.
func TestOfficialClientIsTestOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", "github.com/etcdscript/etcdscript/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		for _, imp := range strings.Split(imports, ",") {
			if imp == officialClient || strings.HasPrefix(imp, officialClient+"/") {
				t.Errorf("%s imports %s in non-test code", pkg, imp)
			}
		}
	}
	core := []string{"client/...", "luart/...", "stdlib/...", "bindings/...", "engine/..."}
	for _, p := range core {
		args := []string{"list", "-deps", "-f", "{{.ImportPath}}", "github.com/etcdscript/etcdscript/" + p}
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == officialClient || strings.HasPrefix(dep, officialClient+"/") {
				t.Errorf("%s depends on %s", p, dep)
			}
		}
	}
}

// TestProductDoesNotImportTests: the packages under tests/ are test
// helpers; product code (anything outside tests/ and bench/) does not
// import them, not even the in-process server of --embedded and
// enginetest, which lives in embedetcd.
func TestProductDoesNotImportTests(t *testing.T) {
	const module = "github.com/etcdscript/etcdscript/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		if strings.HasPrefix(pkg, module+"tests/") || strings.HasPrefix(pkg, module+"bench/") || pkg == module+"tests" || pkg == module+"bench" {
			continue
		}
		for _, imp := range strings.Split(imports, ",") {
			if strings.HasPrefix(imp, module+"tests/") || imp == module+"tests" {
				t.Errorf("%s imports %s in non-test code", pkg, imp)
			}
		}
	}
}
