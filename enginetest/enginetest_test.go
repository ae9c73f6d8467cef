package enginetest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
)

func TestRunSharesTheTestsCluster(t *testing.T) {
	first := enginetest.Run(t, `etcd.put("k", "from the first run")`).MustSucceed(t)
	second := enginetest.Run(t, `print(etcd.get("k").value)`).MustSucceed(t)
	if second.Stdout != "from the first run\n" {
		t.Errorf("stdout %q: the second run does not see the first one's write", second.Stdout)
	}
	if first.Cluster == nil || first.Cluster != second.Cluster {
		t.Error("the runs of one test used different clusters")
	}
	resp, err := second.Client.Get(context.Background(), "k")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get: %v %v", resp, err)
	}
	t.Run("subtest", func(t *testing.T) {
		out := enginetest.Run(t, `return etcd.get("k") == nil`).MustSucceed(t)
		if out.Result.Values[0] != true || out.Cluster == first.Cluster {
			t.Error("a subtest shares its parent's cluster")
		}
	})
}

func TestWithCluster(t *testing.T) {
	c := enginetest.StartCluster(t)
	enginetest.Run(t, `etcd.put("shared", "yes")`, enginetest.WithCluster(c)).MustSucceed(t)
	t.Run("sub", func(t *testing.T) {
		out := enginetest.Run(t, `return etcd.get("shared").value`, enginetest.WithCluster(c)).MustSucceed(t)
		if out.Result.Values[0] != "yes" {
			t.Errorf("values %v", out.Result.Values)
		}
	})
}

func TestWithoutEtcd(t *testing.T) {
	out := enginetest.Run(t, `print("hi") io.stderr:write("err") return 1`, enginetest.WithoutEtcd()).MustSucceed(t)
	if out.Stdout != "hi\n" || out.Stderr != "err" || out.Client != nil || out.Cluster != nil {
		t.Errorf("outcome %+v", out)
	}
	out = enginetest.Run(t, `etcd.get("k")`, enginetest.WithoutEtcd())
	if se := out.MustFail(t, engine.ExitError); !strings.Contains(se.Message, "no etcd client") {
		t.Errorf("message %q", se.Message)
	}
}

func TestRunFileArgsAndStdin(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.lua")
	if err := os.WriteFile(path, []byte(`print(require("helper").greet(...), io.read())`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "helper.lua"), []byte(`return {greet = function(n) return "hello " .. n end}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := enginetest.RunFile(t, path, enginetest.WithoutEtcd(), enginetest.WithArgs("you"),
		enginetest.WithStdin(strings.NewReader("line\n"))).MustSucceed(t)
	if out.Stdout != "hello you\tline\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
}

func TestMustFailAndScriptError(t *testing.T) {
	out := enginetest.Run(t, "\nerror('bad')", enginetest.WithoutEtcd(), enginetest.WithName("named.lua"))
	se := out.MustFail(t, engine.ExitError)
	if se == nil || se.Error() != "named.lua:2: bad" || out.ExitCode() != 1 || out.ScriptError() != se {
		t.Errorf("error %v, exit %d", se, out.ExitCode())
	}
	out = enginetest.Run(t, `os.exit(3)`, enginetest.WithoutEtcd())
	if se := out.MustFail(t, 3); se.Kind != engine.KindExit {
		t.Errorf("kind %q", se.Kind)
	}
}

func TestWithContextAndConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	out := enginetest.Run(t, `while true do end`, enginetest.WithoutEtcd(), enginetest.WithContext(ctx))
	out.MustFail(t, engine.ExitTimeout)

	out = enginetest.Run(t, `while true do end`, enginetest.WithoutEtcd(),
		enginetest.WithConfig(func(cfg *engine.Config) { cfg.Timeout = 50 * time.Millisecond }))
	out.MustFail(t, engine.ExitTimeout)

	out = enginetest.Run(t, `return os.getenv("X")`, enginetest.WithoutEtcd(), enginetest.WithConfig(func(cfg *engine.Config) {
		cfg.NoSandbox = true
		cfg.Getenv = func(string) (string, bool) { return "set", true }
	})).MustSucceed(t)
	if out.Result.Values[0] != "set" {
		t.Errorf("values %v", out.Result.Values)
	}
}
