package engine_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/engine"
)

// testTimeout bounds every run of these tests, so that a broken one fails
// instead of hanging go test.
const testTimeout = time.Minute

// outcome is what one run gave.
type outcome struct {
	res    *engine.Result
	err    error
	stdout string
	stderr string
}

// scriptErr returns the run's ScriptError, failing the test when there is
// none.
func (o outcome) scriptErr(t *testing.T) *engine.ScriptError {
	t.Helper()
	var se *engine.ScriptError
	if !errors.As(o.err, &se) {
		t.Fatalf("error = %v (%T), want a *engine.ScriptError\nstdout: %s\nstderr: %s", o.err, o.err, o.stdout, o.stderr)
	}
	return se
}

// newEngine returns an engine for cfg whose writers are buffers, closed
// with the test.
func newEngine(t *testing.T, cfg engine.Config) (*engine.Engine, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if cfg.Stdout == nil {
		cfg.Stdout = &stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = &stderr
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, &stdout, &stderr
}

// runString runs src in a new engine for cfg.
func runString(t *testing.T, cfg engine.Config, src string, args ...string) outcome {
	t.Helper()
	e, stdout, stderr := newEngine(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	res, err := e.RunString(ctx, "test.lua", src, args)
	if res == nil {
		t.Fatalf("RunString returned a nil result (error %v)", err)
	}
	return outcome{res: res, err: err, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs src and fails the test unless it exits 0.
func mustRun(t *testing.T, cfg engine.Config, src string, args ...string) outcome {
	t.Helper()
	o := runString(t, cfg, src, args...)
	if o.err != nil || o.res.ExitCode != 0 {
		var bt string
		if se, ok := engine.AsScriptError(o.err); ok {
			bt = se.Backtrace()
		}
		t.Fatalf("exit code %d, error %v\n%s\nstdout: %s\nstderr: %s", o.res.ExitCode, o.err, bt, o.stdout, o.stderr)
	}
	return o
}

// writeFiles writes files (name -> content) under a new temporary
// directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
