package bindings

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// The cluster and maintenance calls of docs/lua.md. Member ids are
// hex strings as etcdctl member list prints them (%x, unpadded). A call
// that names an endpoint talks to that member only; the calls that cover
// every configured endpoint ask them in parallel, each under the per-call
// timeout, and report a member that did not answer in its own entry.

var (
	statusShape = luart.NewShape("endpoint", "version", "db_size", "db_size_in_use", "leader",
		"member_id", "raft_term", "raft_index", "raft_applied_index", "is_learner", "errors")
	memberShape = luart.NewShape("id", "name", "peer_urls", "client_urls", "is_learner")
	alarmShape  = luart.NewShape("member_id", "alarm")

	healthOptions  = luart.NewOptionSet("serializable")
	disarmOptions  = luart.NewOptionSet("member_id", "alarm")
	defragOptions  = luart.NewOptionSet("timeout")
	snapshotOption = luart.NewOptionSet("endpoint", "timeout")
)

// endpoints is etcd.endpoints(): the client's endpoints, as configured.
func (c *conn) endpoints(L *lua.LState) int {
	const fn = "etcd.endpoints"
	c.noArgs(L, fn)
	cli := c.mustClient(L, fn)
	eps := cli.Endpoints()
	t := luart.NewArray(L, len(eps))
	for _, ep := range eps {
		t.Append(lua.LString(ep))
	}
	L.Push(t)
	return 1
}

// members is etcd.members(): the member list, linearizable.
func (c *conn) members(L *lua.LState) int {
	const fn = "etcd.members"
	c.noArgs(L, fn)
	cli := c.mustClient(L, fn)
	resp := callOne(c, L, fn, "", func(ctx context.Context) (*client.MemberListResponse, error) {
		return cli.MemberList(ctx)
	})
	t := luart.NewArray(L, len(resp.Members))
	for _, mem := range resp.Members {
		t.Append(memberShape.New(hexUint(mem.ID), lua.LString(mem.Name), stringArray(L, mem.PeerURLs),
			stringArray(L, mem.ClientURLs), lua.LBool(mem.IsLearner)))
	}
	L.Push(t)
	return 1
}

// status is etcd.status([endpoint]): one member's status, or an array of
// every configured endpoint's.
func (c *conn) status(L *lua.LState) int {
	const fn = "etcd.status"
	a := c.args(L, fn)
	b := c.off
	cli := c.mustClient(L, fn)
	if L.GetTop() > b+1 {
		a.Fail(b+2, "", "nothing expected after the endpoint, got %s", L.Get(b+2).Type().String())
	}
	if L.Get(b+1) != lua.LNil {
		ep := c.memberArg(L, a, cli, b+1, "endpoint")
		resp := callOne(c, L, fn, ep, func(ctx context.Context) (*client.StatusResponse, error) {
			return cli.Status(ctx, ep)
		})
		L.Push(c.statusTable(L, ep, resp))
		return 1
	}
	type result struct {
		resp *client.StatusResponse
		err  error
	}
	eps := cli.Endpoints()
	results := make([]result, len(eps))
	c.eachEndpoint(eps, func(ctx context.Context, i int, ep string) {
		results[i].resp, results[i].err = cli.Status(ctx, ep)
	})
	t := luart.NewArray(L, len(eps))
	for i, ep := range eps {
		if err := results[i].err; err != nil {
			t.Append(c.failedEntry(L, fn, ep, err))
			continue
		}
		t.Append(c.statusTable(L, ep, results[i].resp))
	}
	L.Push(t)
	return 1
}

// eachEndpoint calls do for every endpoint at once, each under its own
// per-call timeout, and returns when all have returned.
func (c *conn) eachEndpoint(eps []string, do func(ctx context.Context, i int, ep string)) {
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := c.callCtx()
			defer cancel()
			do(ctx, i, ep)
		}()
	}
	wg.Wait()
}

// failedEntry is the entry of a member that did not answer: {endpoint=,
// err=}.
func (c *conn) failedEntry(L *lua.LState, fn, ep string, err error) *lua.LTable {
	t := L.CreateTable(0, 2)
	t.RawSetString("endpoint", lua.LString(ep))
	t.RawSetString("err", c.m.errorValue(L, fn, "", endpointErr(ep, err)))
	return t
}

func (c *conn) statusTable(L *lua.LState, ep string, r *client.StatusResponse) *lua.LTable {
	errs := stringArray(L, r.Errors)
	return statusShape.New(lua.LString(ep), lua.LString(r.Version), num(r.DbSize), num(r.DbSizeInUse),
		hexUint(r.Leader), hexUint(r.Header.GetMemberId()), lua.LNumber(r.RaftTerm), lua.LNumber(r.RaftIndex),
		lua.LNumber(r.RaftAppliedIndex), lua.LBool(r.IsLearner), errs)
}

// health is etcd.health([endpoint] [, {serializable=true}]): what etcdctl
// endpoint health says of one member, or an array for every configured
// endpoint. A member that is not healthy is an answer, not a failure: its
// entry has healthy = false and err.
func (c *conn) health(L *lua.LState) int {
	const fn = "etcd.health"
	a := c.args(L, fn)
	b := c.off
	cli := c.mustClient(L, fn)
	optsAt := b + 1
	ep := ""
	switch L.Get(b + 1).(type) {
	case lua.LString:
		ep = endpointArg(a, b+1, "endpoint")
		optsAt = b + 2
	case *lua.LNilType:
		if L.GetTop() > b+1 {
			optsAt = b + 2 // etcd.health(nil, opts)
		}
	}
	if L.GetTop() > optsAt {
		a.Fail(optsAt+1, "", "nothing expected after the options, got %s", L.Get(optsAt+1).Type().String())
	}
	o := a.Options(optsAt, "opts", healthOptions)
	serializable := o.Bool("serializable", false)
	if ep != "" {
		c.memberArg(L, a, cli, b+1, "endpoint")
		ctx, cancel := c.callCtx()
		h := cli.EndpointHealth(ctx, ep, serializable)
		cancel()
		L.Push(c.healthTable(L, fn, h))
		return 1
	}
	eps := cli.Endpoints()
	results := make([]client.EndpointHealth, len(eps))
	c.eachEndpoint(eps, func(ctx context.Context, i int, ep string) {
		results[i] = cli.EndpointHealth(ctx, ep, serializable)
	})
	t := luart.NewArray(L, len(eps))
	for _, h := range results {
		t.Append(c.healthTable(L, fn, h))
	}
	L.Push(t)
	return 1
}

func (c *conn) healthTable(L *lua.LState, fn string, h client.EndpointHealth) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("endpoint", lua.LString(h.Endpoint))
	t.RawSetString("healthy", lua.LBool(h.Healthy))
	t.RawSetString("took", lua.LNumber(h.Took.Seconds()))
	if h.Err != nil {
		t.RawSetString("err", c.m.errorValue(L, fn, "", endpointErr(h.Endpoint, h.Err)))
	}
	return t
}

// alarms is etcd.alarms(): the alarms raised in the cluster.
func (c *conn) alarms(L *lua.LState) int {
	const fn = "etcd.alarms"
	c.noArgs(L, fn)
	cli := c.mustClient(L, fn)
	resp := callOne(c, L, fn, "", func(ctx context.Context) (*client.AlarmResponse, error) {
		return cli.AlarmList(ctx)
	})
	L.Push(alarmArray(L, resp.Alarms))
	return 1
}

// alarmDisarm is etcd.alarm_disarm([{member_id=, alarm=}]): it disarms the
// alarms that match the fields given (every alarm without an argument) and
// returns those it disarmed.
func (c *conn) alarmDisarm(L *lua.LState) int {
	const fn = "etcd.alarm_disarm"
	a := c.args(L, fn)
	b := c.off
	if L.GetTop() > b+1 {
		a.Fail(b+2, "", "nothing expected after the alarm, got %s", L.Get(b+2).Type().String())
	}
	o := a.Options(b+1, "alarm", disarmOptions)
	var member uint64
	if o.IsSet("member_id") {
		s := o.String("member_id", "")
		id, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 64)
		if err != nil || id == 0 {
			o.Fail("member_id", "a member id in hex (as etcd.members() gives it) expected, got %q", s)
		}
		member = id
	}
	kind := pb.AlarmType_NONE
	if o.IsSet("alarm") {
		s := o.String("alarm", "")
		v, ok := pb.AlarmType_value[strings.ToUpper(s)]
		if !ok || pb.AlarmType(v) == pb.AlarmType_NONE {
			o.Fail("alarm", `"NOSPACE" or "CORRUPT" expected, got %q`, s)
		}
		kind = pb.AlarmType(v)
	}
	cli := c.mustClient(L, fn)
	ctx, cancel := c.callCtx()
	defer cancel()
	var out []*pb.AlarmMember
	if member != 0 && kind != pb.AlarmType_NONE {
		resp, err := cli.AlarmDisarm(ctx, &client.AlarmMember{MemberID: member, Alarm: kind})
		if err != nil {
			c.m.raise(L, fn, "", err)
		}
		out = resp.Alarms
	} else {
		// The server disarms one member's alarm of one kind at a time:
		// disarm each raised alarm that matches what was given.
		list, err := cli.AlarmList(ctx)
		if err != nil {
			c.m.raise(L, fn, "", err)
		}
		for _, al := range list.Alarms {
			if member != 0 && al.MemberID != member || kind != pb.AlarmType_NONE && al.Alarm != kind {
				continue
			}
			resp, err := cli.AlarmDisarm(ctx, (*client.AlarmMember)(al))
			if err != nil {
				c.m.raise(L, fn, "", err)
			}
			out = append(out, resp.Alarms...)
		}
	}
	L.Push(alarmArray(L, out))
	return 1
}

func alarmArray(L *lua.LState, alarms []*pb.AlarmMember) *lua.LTable {
	t := luart.NewArray(L, len(alarms))
	for _, al := range alarms {
		t.Append(alarmShape.New(hexUint(al.MemberID), lua.LString(al.Alarm.String())))
	}
	return t
}

// defragment is etcd.defragment(endpoint [, {timeout=}]): it waits as long
// as the member takes, bounded by the timeout option and the run, not by
// the per-call timeout.
func (c *conn) defragment(L *lua.LState) int {
	const fn = "etcd.defragment"
	a := c.args(L, fn)
	b := c.off
	endpointArg(a, b+1, "endpoint")
	o := a.Options(b+2, "opts", defragOptions)
	timeout := o.Duration("timeout", 0)
	cli := c.mustClient(L, fn)
	ep := c.memberArg(L, a, cli, b+1, "endpoint")
	ctx, cancel := c.waitCtx(timeout)
	_, err := cli.Defragment(ctx, ep)
	cancel()
	if err != nil {
		c.m.raise(L, fn, "", endpointErr(ep, err))
	}
	return 0
}

// waitCtx is the context of a call that waits by design: the run's,
// bounded by timeout when it is positive.
func (c *conn) waitCtx(timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(c.m.runCtx(), timeout)
	}
	return context.WithCancel(c.m.runCtx())
}

// hashKV is etcd.hash_kv(endpoint [, rev]): the hash of the member's
// key-value store at rev (0 or none: the latest).
func (c *conn) hashKV(L *lua.LState) int {
	const fn = "etcd.hash_kv"
	a := c.args(L, fn)
	b := c.off
	endpointArg(a, b+1, "endpoint")
	var rev int64
	if L.Get(b+2) != lua.LNil {
		rev = a.Revision(b+2, "rev")
	}
	cli := c.mustClient(L, fn)
	ep := c.memberArg(L, a, cli, b+1, "endpoint")
	resp := callOne(c, L, fn, ep, func(ctx context.Context) (*client.HashKVResponse, error) {
		return cli.HashKV(ctx, ep, rev)
	})
	t := L.CreateTable(0, 3)
	t.RawSetString("hash", lua.LNumber(resp.Hash))
	t.RawSetString("hash_revision", num(resp.HashRevision))
	t.RawSetString("compact_revision", num(resp.CompactRevision))
	L.Push(t)
	return 1
}

// endpointArg reads an endpoint argument: a non-empty string.
func endpointArg(a luart.Args, n int, name string) string {
	ep := a.String(n, name)
	if strings.TrimSpace(ep) == "" {
		a.Fail(n, name, "an endpoint (\"host:port\" or a URL) expected, got an empty string")
	}
	return ep
}

// memberArg reads an endpoint argument and checks that it names a member
// of the client's cluster: one of its configured endpoints, or a client URL
// of a member (etcd.members()). The calls that take an endpoint send the
// client's credentials (TLS certificate, user and password, token) there,
// so a script must not be able to point them at any host it likes.
func (c *conn) memberArg(L *lua.LState, a luart.Args, cli *client.Client, n int, name string) string {
	ep := endpointArg(a, n, name)
	if err := c.checkMember(cli, ep); err != nil {
		var le *luart.Error
		if errors.As(err, &le) {
			a.Fail(n, name, "%s", le.Message)
		}
		c.m.raise(L, a.Fn, "", err)
	}
	return ep
}

// checkMember returns nil when ep is a configured endpoint or a member's
// client URL, an invalid_argument *luart.Error when it is neither, and the
// error of the member list it had to read.
func (c *conn) checkMember(cli *client.Client, ep string) error {
	want := endpointAddr(ep)
	for _, e := range cli.Endpoints() {
		if endpointAddr(e) == want {
			return nil
		}
	}
	ctx, cancel := c.callCtx()
	resp, err := cli.MemberList(ctx)
	cancel()
	if err != nil {
		return err
	}
	for _, mem := range resp.Members {
		for _, u := range mem.ClientURLs {
			if endpointAddr(u) == want {
				return nil
			}
		}
	}
	return &luart.Error{Code: luart.CodeInvalidArgument,
		Message: fmt.Sprintf("%q is not an endpoint of this cluster: neither a configured endpoint nor a member's client URL", ep)}
}

// endpointAddr is the host:port an endpoint names, in any form
// Config.Endpoints accepts, for comparing endpoints.
func endpointAddr(ep string) string {
	ep = strings.TrimSpace(ep)
	if i := strings.Index(ep, "://"); i >= 0 {
		if u, err := url.Parse(ep); err == nil && u.Host != "" {
			return strings.ToLower(u.Host)
		}
		ep = ep[i+3:]
	}
	return strings.ToLower(strings.TrimSuffix(ep, "/"))
}

// endpointErr names the member in an error about it, keeping its code.
func endpointErr(ep string, err error) error {
	if err == nil || strings.Contains(err.Error(), ep) {
		return err
	}
	return &endpointError{ep: ep, err: err}
}

type endpointError struct {
	ep  string
	err error
}

func (e *endpointError) Error() string { return e.ep + ": " + e.err.Error() }
func (e *endpointError) Unwrap() error { return e.err }

// noArgs raises invalid_argument when fn, which takes no arguments, got
// some.
func (c *conn) noArgs(L *lua.LState, fn string) {
	c.args(L, fn)
	if L.GetTop() > c.off {
		luart.ArgError(L, fn, "#1", "no arguments expected, got %s", L.Get(c.off+1).Type().String())
	}
}

// callOne makes one call under the per-call timeout and raises its error,
// naming the endpoint ep when there is one.
func callOne[T any](c *conn, L *lua.LState, fn, ep string, do func(ctx context.Context) (T, error)) T {
	ctx, cancel := c.callCtx()
	v, err := do(ctx)
	cancel()
	if err != nil {
		if ep != "" {
			err = endpointErr(ep, err)
		}
		c.m.raise(L, fn, "", err)
	}
	return v
}

// mustClient returns the connection's client or raises.
func (c *conn) mustClient(L *lua.LState, fn string) *client.Client {
	cli, err := c.client()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	return cli
}

func stringArray(L *lua.LState, ss []string) *lua.LTable {
	t := luart.NewArray(L, len(ss))
	for _, s := range ss {
		t.Append(lua.LString(s))
	}
	return t
}
