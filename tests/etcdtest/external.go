package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// ExternalEnv names an etcd server binary (for instance one of etcd 3.5,
// built by tests/oldetcd/build.sh). When it is set, StartServer and
// StartServerT run that binary as a process instead of starting a member
// in this process, so that the tests that use them check the client and
// the Lua module against that server version.
const ExternalEnv = "ETCDSCRIPT_TEST_ETCD"

// Server is a running one-member etcd cluster: a *Cluster in this process,
// or an *External process.
type Server interface {
	// Endpoints returns the host:port clients dial.
	Endpoints() []string
	// Close stops the server and removes its data.
	Close() error
}

// ServerOptions configures StartServer: what a member in this process and
// an external etcd binary both take.
type ServerOptions struct {
	// WatchProgressNotifyInterval is how often the server sends progress
	// notifications to watches that asked for them. Zero means etcd's
	// default (10 minutes).
	WatchProgressNotifyInterval time.Duration
}

// StartServer starts a one-member cluster: a process of the binary that
// ExternalEnv names when it is set, otherwise a member in this process
// (with the defaults of Options).
func StartServer(ctx context.Context, o ServerOptions) (Server, error) {
	if bin := os.Getenv(ExternalEnv); bin != "" {
		return StartExternal(ctx, bin, o)
	}
	opts := Options{}
	if d := o.WatchProgressNotifyInterval; d > 0 {
		opts.Configure = func(cfg *embed.Config) { cfg.WatchProgressNotifyInterval = d }
	}
	c, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// StartServerT is StartServer for a test: it registers Close with
// t.Cleanup and fails the test when the server cannot start within
// StartTimeout.
func StartServerT(t TB, o ServerOptions) Server {
	t.Helper()
	return startT(t, "server", func(ctx context.Context) (Server, error) { return StartServer(ctx, o) })
}

// startT runs start for a test (what names it in messages): within
// StartTimeout, failing the test on error, closed when the test ends.
func startT[S interface{ Close() error }](t TB, what string, start func(context.Context) (S, error)) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := start(ctx)
	if err != nil {
		t.Fatalf("etcdtest: start %s: %v", what, err)
		return s
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Logf("etcdtest: close %s: %v", what, err)
		}
	})
	return s
}

// External is a one-member etcd cluster served by an etcd binary in a
// process of its own, on 127.0.0.1 with free ports and a temporary data
// directory, with the test defaults of this package (no fsync, short raft
// timing).
type External struct {
	cmd        *exec.Cmd
	exited     chan struct{} // closed when the process has exited
	dir        string
	version    string
	clientPort int
	peerPort   int
}

// versionLine is the first line of `etcd --version`.
var versionLine = regexp.MustCompile(`etcd Version: (\d+)\.(\d+)\.(\d+)`)

// BinaryVersion runs `binary --version` and returns the server version it
// reports, such as "3.5.36".
func BinaryVersion(binary string) (string, error) {
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("etcdtest: %s --version: %w", binary, err)
	}
	m := versionLine.FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("etcdtest: %s --version printed no etcd version: %q", binary, out)
	}
	return m[1] + "." + m[2] + "." + m[3], nil
}

// StartExternal starts binary as a one-member cluster and waits until it
// has a leader. On error nothing is left running.
func StartExternal(ctx context.Context, binary string, o ServerOptions) (*External, error) {
	version, err := BinaryVersion(binary)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		x, err := startExternal(ctx, binary, version, o)
		if err == nil {
			return x, nil
		}
		// Another process can take a port between its choice and the
		// server's bind: try again with new ports.
		if !isAddrInUse(err) || attempt >= startAttempts || ctx.Err() != nil {
			return nil, err
		}
	}
}

func startExternal(ctx context.Context, binary, version string, o ServerOptions) (x *External, err error) {
	ps, err := reservePortsFn(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "etcdtest-ext-")
	if err != nil {
		releasePorts(ps...)
		return nil, err
	}
	x = &External{dir: dir, version: version, clientPort: ps[0], peerPort: ps[1], exited: make(chan struct{})}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	logPath := filepath.Join(dir, "etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	client, peer := "http://"+hostPort(x.clientPort), "http://"+hostPort(x.peerPort)
	args := []string{
		"--name", "m0",
		"--data-dir", filepath.Join(dir, "m0"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "m0=" + peer, "--initial-cluster-state", "new",
		"--heartbeat-interval", strconv.Itoa(DefaultTickMs),
		"--election-timeout", strconv.Itoa(DefaultElectionMs),
		"--unsafe-no-fsync",
		"--log-level", "error",
	}
	if d := o.WatchProgressNotifyInterval; d > 0 {
		// etcd 3.6 renamed the flag and deprecated the old name; 3.5 knows
		// only the old one.
		flag := "--watch-progress-notify-interval"
		if strings.HasPrefix(version, "3.5.") || strings.HasPrefix(version, "3.4.") {
			flag = "--experimental-watch-progress-notify-interval"
		}
		args = append(args, flag, d.String())
	}
	x.cmd = exec.Command(binary, args...)
	x.cmd.Stdout, x.cmd.Stderr = logFile, logFile
	x.cmd.SysProcAttr = childProcAttr()
	if err := x.cmd.Start(); err != nil {
		x.cmd = nil
		close(x.exited)
		return nil, fmt.Errorf("etcdtest: start %s: %w", binary, err)
	}
	go func() {
		_ = x.cmd.Wait()
		close(x.exited)
	}()
	if err := x.waitHealthy(ctx); err != nil {
		return nil, fmt.Errorf("etcdtest: etcd %s (%s): %w; its log ends:\n%s", version, binary, err, tail(logPath, 2000))
	}
	return x, nil
}

// waitHealthy polls the server's /health until it reports a leader.
func (x *External) waitHealthy(ctx context.Context) error {
	url := "http://" + hostPort(x.clientPort) + "/health"
	// No keep-alive: an idle connection's goroutines would outlive the
	// start and read as leaks.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"true"`) {
				return nil
			}
		}
		select {
		case <-x.exited:
			if log := tail(filepath.Join(x.dir, "etcd.log"), 2000); strings.Contains(log, "address already in use") {
				return fmt.Errorf("exited: %w", syscall.EADDRINUSE)
			}
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// Endpoints returns the host:port of the server's client URL.
func (x *External) Endpoints() []string { return []string{hostPort(x.clientPort)} }

// ClientURLs returns Endpoints with their scheme.
func (x *External) ClientURLs() []string { return []string{"http://" + hostPort(x.clientPort)} }

// Version returns the server version of the binary, such as "3.5.36".
func (x *External) Version() string { return x.version }

// Close stops the server (SIGTERM, then SIGKILL after 10 s), waits for the
// process and removes its data directory. Close is idempotent.
func (x *External) Close() error {
	var err error
	if x.cmd != nil {
		_ = x.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-x.exited:
		case <-time.After(10 * time.Second):
			_ = x.cmd.Process.Kill()
			<-x.exited
			err = errors.New("etcdtest: external etcd ignored SIGTERM for 10 s and was killed")
		}
		x.cmd = nil
	}
	if x.dir != "" {
		err = errors.Join(err, os.RemoveAll(x.dir))
		x.dir = ""
		releasePorts(x.clientPort, x.peerPort)
	}
	return err
}
