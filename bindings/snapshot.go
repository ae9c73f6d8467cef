package bindings

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// codeIOError is the io_error code of docs/lua.md for a file that could not
// be written.
const codeIOError = "io_error"

// snapshot is etcd.snapshot(path [, {endpoint=, timeout=}]): it streams the
// backend of one member (the endpoint's, else the first configured endpoint
// that answers) to path.part, syncs it, and renames it to path only once
// complete, so that path never holds a partial snapshot. It returns {path=,
// size=, revision=, endpoint=}; revision is the member's revision when the
// snapshot began, every write up to it included. Like defragment it waits
// as long as the member takes, bounded by the timeout option and the run. A
// sandboxed run writes no files: the call raises permission_denied.
func (c *conn) snapshot(L *lua.LState) int {
	const fn = "etcd.snapshot"
	a := c.args(L, fn)
	b := c.off
	if c.m.rt.Sandbox {
		luart.Raise(L, &luart.Error{Code: luart.CodePermissionDenied, Op: fn,
			Message: "off in a sandboxed run: scripts there write no files"})
	}
	path := a.String(b+1, "path")
	if path == "" {
		a.Fail(b+1, "path", "a file name expected, got an empty string")
	}
	o := a.Options(b+2, "opts", snapshotOption)
	ep := ""
	if o.IsSet("endpoint") {
		if ep = o.String("endpoint", ""); ep == "" {
			o.Fail("endpoint", "an endpoint (\"host:port\" or a URL) expected, got an empty string")
		}
	}
	timeout := o.Duration("timeout", 0)
	cli := c.mustClient(L, fn)
	eps := []string{ep}
	if ep == "" {
		eps = cli.Endpoints()
	} else if err := c.checkMember(cli, ep); err != nil {
		var le *luart.Error
		if errors.As(err, &le) {
			o.Fail("endpoint", "%s", le.Message)
		}
		c.m.raise(L, fn, "", err)
	}
	// etcd sends no revision with a snapshot. The member's revision read
	// right before it is one the snapshot holds: the backend commits what
	// the member has applied before it is copied. The first endpoint that
	// answers serves the snapshot.
	var (
		src  *client.Client
		from string
		rev  int64
		err  error
	)
	for _, e := range eps {
		ctx, cancel := c.callCtx()
		st, serr := cli.Status(ctx, e)
		cancel()
		if serr != nil {
			err = endpointErr(e, serr)
			continue
		}
		if src, err = cli.EndpointClient(e); err != nil {
			c.m.raise(L, fn, "", endpointErr(e, err))
		}
		from, rev = e, st.Header.GetRevision()
		break
	}
	if src == nil {
		c.m.raise(L, fn, "", err)
	}
	defer src.Close()
	ctx, cancel := c.waitCtx(timeout)
	defer cancel()
	resp, err := src.SnapshotWithVersion(ctx)
	if err != nil {
		c.m.raise(L, fn, "", endpointErr(from, err))
	}
	if r := resp.Header.GetRevision(); r > 0 {
		rev = r
	}
	size, err := writeSnapshot(path, resp.Snapshot)
	if err != nil {
		var fe *fileError
		if errors.As(err, &fe) {
			luart.Raise(L, &luart.Error{Code: codeIOError, Op: fn, Message: err.Error(), Cause: err})
		}
		c.m.raise(L, fn, "", err)
	}
	t := L.CreateTable(0, 4)
	t.RawSetString("path", lua.LString(path))
	t.RawSetString("endpoint", lua.LString(from))
	t.RawSetString("size", num(size))
	t.RawSetString("revision", num(rev))
	L.Push(t)
	return 1
}

// fileError marks a failure of the local file, as opposed to the stream.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// writeSnapshot copies r to path.part, syncs it and renames it to path,
// then syncs the directory so that the rename survives a crash. On failure
// it removes path.part and leaves path as it was.
func writeSnapshot(path string, r io.ReadCloser) (n int64, err error) {
	defer r.Close()
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, &fileError{err}
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(part)
		}
	}()
	n, err = io.Copy(f, r)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return n, &fileError{fmt.Errorf("writing %s: %w", part, err)}
		}
		return n, fmt.Errorf("receiving the snapshot: %w", err)
	}
	if err = f.Sync(); err != nil {
		return n, &fileError{fmt.Errorf("syncing %s: %w", part, err)}
	}
	if err = f.Close(); err != nil {
		return n, &fileError{fmt.Errorf("closing %s: %w", part, err)}
	}
	if err = os.Rename(part, path); err != nil {
		return n, &fileError{err}
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		// Best effort: some file systems cannot sync a directory.
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}
