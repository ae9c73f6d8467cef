package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/namespace"
	"github.com/etcdscript/etcdscript/engine"
	"github.com/etcdscript/etcdscript/luart"
	"github.com/etcdscript/etcdscript/migrate"
	"github.com/etcdscript/etcdscript/stdlib"
	"github.com/urfave/cli/v2"
)

// defaultTestTimeout bounds one test file when --timeout is not given, so
// that a test that waits forever fails instead of hanging a CI job.
const defaultTestTimeout = 5 * time.Minute

// testFileSuffix names the files `etcdscript test` runs.
const testFileSuffix = "_test.lua"

func testCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run *_test.lua files, each against a clean etcd",
		ArgsUsage: "[PATH...]",
		Description: "Runs every *_test.lua file under PATH (default: ., recursively). A file's top level\n" +
			"is its set-up; test(name, fn) declares a case; the assert module is the global assert.\n" +
			"Without --endpoints each file gets an embedded etcd of its own, and files run in\n" +
			"parallel (--parallel, default: the number of cores); with --endpoints each file runs\n" +
			"in a fresh namespace whose keys are deleted afterwards. require(\"migrate\") applies a\n" +
			"migrations directory: migrate.up(dir), migrate.down(dir), migrate.status(dir).\n" +
			"Exit codes: 0 every case passed, 1 a case or a file failed, 3 a file does not compile.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run only the cases whose name matches `REGEXP`"},
			&cli.StringFlag{Name: "junit", Usage: "write a JUnit XML report to `FILE`"},
			&cli.IntFlag{Name: "parallel", Usage: "files run at once", DefaultText: "the number of cores with embedded servers, 1 with --endpoints"},
		},
		Action: func(c *cli.Context) error { return runTests(c, p) },
	}
}

// caseResult is one test(name, fn) of a file.
type caseResult struct {
	name    string
	failure string // "" when it passed: "file:line: message" otherwise
	took    time.Duration
}

// fileResult is what one test file gave.
type fileResult struct {
	path    string
	cases   []caseResult
	err     string // the file failed outside any case (set-up, syntax, etcd)
	syntax  bool
	took    time.Duration
	output  bytes.Buffer // what the file printed, and its report lines
	printed bytes.Buffer // what the file printed alone (JUnit's system-out)
}

// emit adds what the file printed since the last call to its output.
func (r *fileResult) emit(out *lockedBuffer) {
	b := out.take()
	r.output.Write(b)
	r.printed.Write(b)
}

// failed counts the file's failed cases, and its own failure outside them.
func (r *fileResult) failed() int {
	n := countFailed(r.cases)
	if r.err != "" {
		n++
	}
	return n
}

func runTests(c *cli.Context, p Process) error {
	if c.String(flagDataDir) != "" {
		return usageErrorf("test gives each file an etcd of its own: --data-dir does not apply")
	}
	var filter *regexp.Regexp
	if pat := c.String("run"); pat != "" {
		re, err := regexp.Compile(pat)
		if err != nil {
			return usageErrorf("--run %q: %v", pat, err)
		}
		filter = re
	}
	paths := c.Args().Slice()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := findTestFiles(paths)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &exitError{code: ExitScriptError, err: fmt.Errorf("no *%s files in %s", testFileSuffix, strings.Join(paths, " "))}
	}
	// Flags parse once: a bad one is a usage error before any file runs.
	if _, err := writeOut(c); err != nil {
		return err
	}
	cfg, err := clientConfig(c, p)
	if err != nil {
		return err
	}
	budget, err := maxMemory(c)
	if err != nil {
		return err
	}
	external := c.IsSet(flagEndpoints) && !c.Bool(flagEmbedded)
	parallel := c.Int("parallel")
	if parallel <= 0 {
		parallel = runtime.NumCPU()
		if external {
			parallel = 1
		}
	}

	ctx, stop := signalContext(p)
	defer stop()
	results := make([]*fileResult, len(files))
	done := make([]chan struct{}, len(files))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				results[i] = &fileResult{path: f, err: "not run: " + context.Cause(ctx).Error()}
				return
			}
			results[i] = runTestFile(ctx, c, p, cfg, budget, external, f, filter)
		}()
	}
	// Reports come out in file order, each as soon as it and those before
	// it are done, so parallel files never mix their lines.
	passed, failed, syntax := 0, 0, false
	for i := range files {
		<-done[i]
		r := results[i]
		p.Stdout.Write(r.output.Bytes())
		failed += r.failed()
		passed += len(r.cases) - countFailed(r.cases)
		syntax = syntax || r.syntax
	}
	wg.Wait()
	fmt.Fprintf(p.Stdout, "%d passed, %d failed\n", passed, failed)
	if path := c.String("junit"); path != "" {
		if err := writeJUnit(path, results); err != nil {
			return &ioError{what: "--junit", err: err}
		}
	}
	var sig *interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return &exitError{code: ExitInterrupted, err: sig}
	}
	switch {
	case syntax:
		return &exitError{code: ExitSyntax}
	case failed > 0:
		return &exitError{code: ExitScriptError}
	}
	return nil
}

func countFailed(cs []caseResult) int {
	n := 0
	for _, c := range cs {
		if c.failure != "" {
			n++
		}
	}
	return n
}

// findTestFiles lists the *_test.lua files of paths: a directory is
// searched recursively (hidden directories skipped), a file is taken as
// it is. The list is sorted and has no file twice.
func findTestFiles(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	for _, root := range paths {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, &ioError{what: "test path", err: err}
		}
		if !fi.IsDir() {
			add(filepath.Clean(root))
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), testFileSuffix) {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, &ioError{what: "test path", err: err}
		}
	}
	sort.Strings(files)
	return files, nil
}

// runTestFile runs one file against an etcd of its own: an embedded
// server, or a fresh namespace of the given cluster that is deleted after.
func runTestFile(ctx context.Context, c *cli.Context, p Process, cfg client.Config, budget int64, external bool, file string, filter *regexp.Regexp) *fileResult {
	r := &fileResult{path: file}
	start := time.Now()
	defer func() { r.took = time.Since(start) }()
	fmt.Fprintf(&r.output, "=== %s\n", file)
	fail := func(msg string) *fileResult {
		r.err = msg
		fmt.Fprintf(&r.output, "FAIL %s\n", msg)
		return r
	}

	// A file that does not compile needs no etcd.
	checker, err := engine.New(engine.Config{})
	if err == nil {
		err = checker.Check(file)
		checker.Close()
	}
	if se, ok := engine.AsScriptError(err); ok {
		r.syntax = se.Kind == engine.KindSyntax
		return fail(problem(se, file, nil))
	} else if err != nil {
		return fail(fmt.Sprintf("%s: %v", file, err))
	}

	var ns string
	if !external {
		eps, stopEtcd, err := startEmbedded(ctx, c, p)
		if err != nil {
			return fail(fmt.Sprintf("%s: starting its etcd: %v", file, err))
		}
		defer stopEtcd()
		cfg.Endpoints, cfg.TLS = eps, nil
	} else {
		ns = "etcdscript-test/" + randomHex(8) + "/"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	cfg.Context = ctx
	cli, err := client.New(cfg)
	if err != nil {
		return fail(fmt.Sprintf("%s: %v", file, err))
	}
	defer cli.Close()
	if ns != "" {
		raw := cli.KV
		defer func() {
			// The file's keys go, whatever it did; a cleanup that fails is
			// the file's failure, since it leaves keys behind.
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := raw.Delete(cctx, ns, client.WithPrefix()); err != nil && r.err == "" {
				fail(fmt.Sprintf("%s: deleting its namespace %s: %v", file, ns, err))
			}
		}()
		cli.KV = namespace.NewKV(cli.KV, ns)
		cli.Watcher = namespace.NewWatcher(cli.Watcher, ns)
		cli.Lease = namespace.NewLease(cli.Lease, ns)
	}

	timeout := c.Duration(flagTimeout)
	if timeout <= 0 {
		timeout = defaultTestTimeout
	}
	callTimeout := c.Duration(flagCommandTimeout)
	if callTimeout == 0 {
		callTimeout = -1
	}
	var out lockedBuffer
	base := engine.Config{
		Stdout:      &out,
		Stderr:      &out,
		NoSandbox:   !c.Bool(flagSandbox),
		CallTimeout: callTimeout,
		LibPaths:    c.StringSlice(flagLib),
		LogLevel:    c.String(flagLogLevel),
		MaxMemory:   budget,
	}
	if base.NoSandbox {
		base.Getenv = p.LookupEnv
	}
	ecfg := base
	ecfg.Client = cli
	ecfg.Timeout = timeout
	ecfg.Modules = map[string]lua.LGFunction{
		"migrate": migrate.LuaModule(migrate.ModuleConfig{Client: cli, Engine: base, BaseDir: filepath.Dir(file), Log: &out}),
	}
	ecfg.Setup = func(L *lua.LState) {
		stdlib.InstallAssert(L)
		L.SetGlobal("test", L.NewFunction(func(L *lua.LState) int {
			name := L.CheckString(1)
			fn := L.CheckFunction(2)
			if filter != nil && !filter.MatchString(name) {
				return 0
			}
			t0 := time.Now()
			L.Push(fn)
			perr := luart.PCall(L, 0, 0)
			cr := caseResult{name: name, took: time.Since(t0)}
			if perr != nil {
				cr.failure = describeFailure(perr)
			}
			r.cases = append(r.cases, cr)
			r.emit(&out)
			if cr.failure == "" {
				fmt.Fprintf(&r.output, "ok   %s\n", name)
			} else {
				fmt.Fprintf(&r.output, "FAIL %s (%s)\n", name, cr.failure)
			}
			if rt := engine.RuntimeOf(L); rt != nil && rt.Context().Err() != nil {
				// The run is over (timeout, interrupt): no case after
				// this one could run, and the run's end is reported once.
				L.Error(lua.LString(cr.failure), 0)
			}
			return 0
		}))
	}
	e, err := engine.New(ecfg)
	if err != nil {
		return fail(fmt.Sprintf("%s: %v", file, err))
	}
	defer e.Close()
	_, err = e.RunFile(ctx, file, nil)
	r.emit(&out)
	if err != nil {
		se, ok := engine.AsScriptError(err)
		switch {
		case ok && se.Kind == engine.KindSyntax:
			r.syntax = true
			return fail(problem(se, file, nil))
		case ok:
			return fail(se.Error())
		default:
			return fail(fmt.Sprintf("%s: %v", file, err))
		}
	}
	return r
}

// describeFailure formats a failed case as "file:line: message".
func describeFailure(err error) string {
	if le, ok := luart.FromError(err); ok {
		return strings.TrimSpace(le.Where + " " + le.Error())
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		if s, ok := ae.Object.(lua.LString); ok {
			return string(s)
		}
		return ae.Object.String()
	}
	return err.Error()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// lockedBuffer collects a file's output: the engine may write to it from
// its own goroutines (log lines of a keepalive, say).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was written since the last take.
func (b *lockedBuffer) take() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := bytes.Clone(b.buf.Bytes())
	b.buf.Reset()
	return out
}
