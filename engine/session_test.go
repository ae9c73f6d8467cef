package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/enginetest"
)

func newSession(t *testing.T, cfg engine.Config) (*engine.Session, *strings.Builder) {
	t.Helper()
	var out strings.Builder
	cfg.Stdout = &out
	e, _, _ := newEngine(t, cfg)
	s, err := e.NewSession("stdin", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &out
}

// eval runs one chunk that must succeed and returns its rendered values.
func eval(t *testing.T, s *engine.Session, src string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := s.Eval(ctx, src)
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return res.Text
}

func TestSessionKeepsState(t *testing.T) {
	s, out := newSession(t, engine.Config{})
	if got := eval(t, s, "x = 40"); len(got) != 0 {
		t.Errorf("a statement returned %q", got)
	}
	if got := eval(t, s, "x + 2"); len(got) != 1 || got[0] != "42" {
		t.Errorf("x + 2 = %q", got)
	}
	if got := eval(t, s, "= x, 'a', nil"); strings.Join(got, " ") != "40 a nil" {
		t.Errorf("= x, 'a', nil gave %q", got)
	}
	if got := eval(t, s, "{b = 1, 'a'}"); len(got) != 1 || got[0] != `{"a", b = 1}` {
		t.Errorf("table rendered as %q", got)
	}
	eval(t, s, "print('hi', x)")
	if out.String() != "hi\t40\n" {
		t.Errorf("print wrote %q", out.String())
	}
	// A coroutine made by one chunk is resumed by the next.
	eval(t, s, "co = coroutine.wrap(function() coroutine.yield(1) return 2 end)")
	if got := eval(t, s, "co()"); got[0] != "1" {
		t.Errorf("co() = %q", got)
	}
	if got := eval(t, s, "co()"); got[0] != "2" {
		t.Errorf("co() = %q", got)
	}
}

func TestSessionIncompleteAndErrors(t *testing.T) {
	s, _ := newSession(t, engine.Config{})
	ctx := context.Background()
	for _, src := range []string{"function f()", "t = {", "s = [[abc", "if x then"} {
		_, err := s.Eval(ctx, src)
		if !errors.Is(err, engine.ErrIncomplete) {
			t.Errorf("Eval(%q) = %v, want ErrIncomplete", src, err)
		}
	}
	_, err := s.Eval(ctx, "x = = 1")
	if se, ok := engine.AsScriptError(err); !ok || se.Kind != engine.KindSyntax || errors.Is(err, engine.ErrIncomplete) {
		t.Errorf("a syntax error gave %v", err)
	}
	eval(t, s, "function f()\n return 7\nend")
	_, err = s.Eval(ctx, "error('boom')")
	if se, ok := engine.AsScriptError(err); !ok || se.Kind != engine.KindRuntime || se.Error() != "stdin:1: boom" {
		t.Errorf("error('boom') gave %v", err)
	}
	if got := eval(t, s, "f()"); got[0] != "7" {
		t.Errorf("after an error f() = %q", got)
	}
}

func TestSessionCancelStopsTheChunkOnly(t *testing.T) {
	s, _ := newSession(t, engine.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := s.Eval(ctx, "n = 0 while true do n = n + 1 end")
	if se, ok := engine.AsScriptError(err); !ok || se.Kind != engine.KindCanceled || se.ExitCode != engine.ExitInterrupted {
		t.Fatalf("canceled busy loop gave %v", err)
	}
	if got := eval(t, s, "n > 0"); got[0] != "true" {
		t.Errorf("n > 0 = %q after the cancel", got)
	}
}

func TestSessionOsExit(t *testing.T) {
	s, _ := newSession(t, engine.Config{})
	res, err := s.Eval(context.Background(), "os.exit(3)")
	if res == nil || !res.Exited || res.ExitCode != 3 || engine.ExitCode(err) != 3 {
		t.Fatalf("os.exit(3) gave %+v, %v", res, err)
	}
	if _, err := s.Eval(context.Background(), "1"); !errors.Is(err, engine.ErrSessionEnded) {
		t.Errorf("Eval after os.exit = %v", err)
	}
}

func TestSessionEtcdAndWatch(t *testing.T) {
	c := sharedCluster(t)
	calls := 0
	s, out := newSession(t, engine.Config{Connect: func(ctx context.Context) (*client.Client, error) {
		calls++
		return enginetest.NewClient(c)
	}})
	eval(t, s, "p = '"+t.Name()+"/'")
	if calls != 0 {
		t.Fatal("the session connected before any etcd call")
	}
	// A watch started by one chunk delivers to the next ones.
	eval(t, s, "w = etcd.watch(p, {prefix = true})")
	eval(t, s, "etcd.put(p .. 'a', 'one')")
	if got := eval(t, s, "w:next(10).kv.value"); got[0] != "one" {
		t.Errorf("watched value %q", got)
	}
	if got := eval(t, s, "etcd.get(p .. 'a').value"); got[0] != "one" {
		t.Errorf("get gave %q", got)
	}
	eval(t, s, "etcd.watch(p, {prefix = true}, function(ev) print('event', ev.kv.value) return false end)")
	eval(t, s, "etcd.put(p .. 'b', 'two')")
	eval(t, s, "etcd.wait(10)")
	if !strings.Contains(out.String(), "event\ttwo\n") {
		t.Errorf("callback output %q", out.String())
	}
	if calls != 1 {
		t.Errorf("Connect called %d times", calls)
	}
}
