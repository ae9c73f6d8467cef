package cli_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCommandDoesNotLinkTheServer keeps etcdscript's start-up quick: etcd's
// server packages spend tens of milliseconds in their init functions in any
// process that links them, so only the etcdscript-etcd program of
// --embedded may import them.
func TestCommandDoesNotLinkTheServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/etcdscript/etcdscript/cmd/etcdscript").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.etcd.io/etcd/server/", "go.etcd.io/raft/", "go.etcd.io/bbolt", "github.com/etcdscript/etcdscript/tests/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("cmd/etcdscript depends on %s", dep)
			}
		}
	}
}
