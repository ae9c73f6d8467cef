package bindings

import (
	"fmt"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

const (
	defaultBatch       = 128
	defaultConcurrency = 8
	// defaultBatchBytes keeps a batch's request below the server's default
	// --max-request-bytes (1.5 MiB) with room for the txn's own framing,
	// and below the client's default send limit (2 MiB).
	defaultBatchBytes = 3<<19 - 16<<10
	// putOverhead estimates the protobuf framing of one put in a txn.
	putOverhead = 16
	// maxConcurrency bounds the txns in flight: beyond a few dozen a
	// server gains nothing, and each slot holds a batch in memory.
	maxConcurrency = 256
	// batchPrealloc bounds the room made up front for a batch, whatever
	// batch size a script asks for.
	batchPrealloc = 1024
)

var putManyOptions = luart.NewOptionSet("batch", "concurrency", "lease", "progress", "batch_bytes")

// putManyJob is the state of one etcd.put_many on the script's goroutine.
type putManyJob struct {
	c        *conn
	kv       client.KV
	lease    client.LeaseID
	batch    int
	maxBytes int
	conc     int
	prog     *luart.Progress

	cur      []client.Op
	curBytes int
	curFirst string
	inBatch  map[string]struct{}
	batches  int

	inflight int
	results  chan putManyResult
	written  int64
	rev      int64
	failed   *putManyResult
}

type putManyResult struct {
	n     int // batch number, from 1
	count int
	first string
	rev   int64
	err   error
}

// putMany is etcd.put_many(items [, opts]): a bulk load in batches of puts,
// one txn per batch, several txns in flight. It returns {written, revision}.
func (c *conn) putMany(L *lua.LState) int {
	const fn = "etcd.put_many"
	a := c.args(L, fn)
	b := c.off
	items := L.Get(b + 1)
	o := a.Options(b+2, "opts", putManyOptions)
	j := &putManyJob{c: c, batch: defaultBatch, conc: defaultConcurrency, maxBytes: defaultBatchBytes}
	if o.Raw() != nil {
		j.batch = int(positiveOpt(&o, "batch", defaultBatch))
		j.conc = int(positiveOpt(&o, "concurrency", defaultConcurrency))
		if j.conc > maxConcurrency {
			o.Fail("concurrency", "at most %d txns may be in flight, got %d", maxConcurrency, j.conc)
		}
		j.maxBytes = int(positiveOpt(&o, "batch_bytes", defaultBatchBytes))
		j.lease, _ = optLease(&o, "lease")
	}
	progress := o.Raw() != nil && o.Bool("progress", false)

	// Tables are checked whole before anything is sent; an iterator's
	// items are checked as they come.
	var total int64
	var array *lua.LTable
	switch v := items.(type) {
	case *lua.LTable:
		if first := v.RawGetInt(1); first != lua.LNil {
			array = v
			total = int64(checkPairs(a, b+1, v))
		} else {
			total = int64(checkMap(a, b+1, v))
		}
	case *lua.LFunction:
	default:
		a.Fail(b+1, "items", "array of {key, value} pairs, table of key -> value, or iterator function expected, got %s", items.Type().String())
	}

	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	j.kv = kv
	j.results = make(chan putManyResult, j.conc)
	j.inBatch = make(map[string]struct{}, min(j.batch, batchPrealloc))
	if progress {
		j.prog = luart.NewProgress(c.m.rt.StderrWriter(), total, "put_many")
	}

	var itemErr error
	switch v := items.(type) {
	case *lua.LTable:
		if array != nil {
			n := array.Len()
			for i := 1; i <= n && j.failed == nil; i++ {
				pair := array.RawGetInt(i).(*lua.LTable)
				j.add(lua.LVAsString(pair.RawGetInt(1)), lua.LVAsString(pair.RawGetInt(2)))
			}
		} else {
			for k, val := v.Next(lua.LNil); k != lua.LNil && j.failed == nil; k, val = v.Next(k) {
				j.add(string(k.(lua.LString)), lua.LVAsString(val))
			}
		}
	case *lua.LFunction:
		itemErr = j.fromIterator(L, a, b+1, v)
	}
	if j.failed == nil && itemErr == nil {
		j.flush()
	}
	j.drain()
	if j.prog != nil {
		j.prog.Done()
	}
	if itemErr != nil {
		if ae, ok := itemErr.(*lua.ApiError); ok {
			if le, ok := luart.FromValue(ae.Object); ok && le.Code == luart.CodeInvalidArgument || ok && le.Code == luart.CodeEmptyKey {
				le.Message += fmt.Sprintf(" (%d keys were written before)", j.written)
			}
			L.Error(ae.Object, 0)
		}
		c.m.raise(L, fn, "", itemErr)
	}
	if f := j.failed; f != nil {
		e := *c.m.newError(fn, f.first, f.err)
		e.Message = fmt.Sprintf("batch %d (%s from %q) failed; at least %d keys were written: %s", f.n, plural(f.count, "key"), f.first, j.written, e.Message)
		e.Cause = f.err
		luart.Raise(L, &e)
	}
	t := L.CreateTable(0, 2)
	t.RawSetString("written", num(j.written))
	t.RawSetString("revision", num(j.rev))
	L.Push(t)
	return 1
}

func positiveOpt(o *luart.Options, key string, def int64) int64 {
	n := o.Int(key, def)
	if n < 1 {
		o.Fail(key, "must be at least 1, got %d", n)
	}
	return n
}

// checkPairs checks an array of {key, value} pairs and returns its length.
func checkPairs(a luart.Args, n int, t *lua.LTable) int {
	size := t.Len()
	for i := 1; i <= size; i++ {
		pair, ok := t.RawGetInt(i).(*lua.LTable)
		if !ok {
			a.Fail(n, "items", "item %d: {key, value} pair expected, got %s", i, t.RawGetInt(i).Type().String())
		}
		checkItem(a, n, "item "+strconv.Itoa(i), pair.RawGetInt(1), pair.RawGetInt(2))
	}
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if i, ok := k.(lua.LNumber); !ok || float64(i) < 1 || float64(i) > float64(size) || float64(i) != float64(int(i)) {
			a.Fail(n, "items", "an array of pairs cannot also have the key %s", k.String())
		}
	}
	return size
}

// checkMap checks a table of key -> value and returns its size.
func checkMap(a luart.Args, n int, t *lua.LTable) int {
	size := 0
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if _, ok := k.(lua.LString); !ok {
			a.Fail(n, "items", "keys of a key -> value table must be strings, got the %s key %s", k.Type().String(), k.String())
		}
		checkItem(a, n, "item "+strconv.Quote(string(k.(lua.LString))), k, v)
		size++
	}
	return size
}

// checkItem checks one key and value: a non-empty string key (empty_key
// otherwise) and a string value (numbers converted, as Lua's own
// functions do).
func checkItem(a luart.Args, n int, what string, k, v lua.LValue) {
	ks, ok := k.(lua.LString)
	if !ok {
		a.Fail(n, "items", "%s: key must be a string, got %s", what, k.Type().String())
	}
	if ks == "" {
		luart.Raise(a.L, &luart.Error{Code: luart.CodeEmptyKey, Op: a.Fn, Message: "bad argument #" + strconv.Itoa(n-a.Offset) + " (items): " + what + ": key is empty"})
	}
	switch v.(type) {
	case lua.LString, lua.LNumber:
	default:
		a.Fail(n, "items", "%s: value must be a string, got %s", what, v.Type().String())
	}
}

// fromIterator reads items from an iterator function until it returns nil
// or a batch fails. A Lua error (the iterator's own, or a bad item) comes
// back as the *lua.ApiError carrying it, once the batches in flight are
// done.
func (j *putManyJob) fromIterator(L *lua.LState, a luart.Args, n int, fn *lua.LFunction) error {
	check := func(L *lua.LState) int {
		i := 0
		for j.failed == nil {
			L.Push(fn)
			L.Call(0, 2)
			k, v := L.Get(-2), L.Get(-1)
			L.Pop(2)
			if k == lua.LNil {
				return 0
			}
			i++
			// The common case is checked without building the message
			// that only a bad item needs.
			ks, keyOK := k.(lua.LString)
			_, valOK := v.(lua.LString)
			if !keyOK || ks == "" || !valOK {
				checkItem(luart.Args{L: L, Fn: a.Fn, Offset: a.Offset}, n, "item "+strconv.Itoa(i), k, v)
			}
			j.add(string(ks), lua.LVAsString(v))
		}
		return 0
	}
	return L.GPCall(check, lua.LNil)
}

// add puts one item in the current batch, sending the batch first when the
// item would overflow it or repeats one of its keys (the server refuses a
// key twice in one txn).
func (j *putManyJob) add(key, value string) {
	size := len(key) + len(value) + putOverhead
	_, dup := j.inBatch[key]
	if len(j.cur) > 0 && (len(j.cur) >= j.batch || j.curBytes+size > j.maxBytes || dup) {
		j.flush()
		if j.failed != nil {
			return
		}
	}
	if len(j.cur) == 0 {
		j.curFirst = key
		j.cur = make([]client.Op, 0, min(j.batch, batchPrealloc))
	}
	if j.lease != client.NoLease {
		j.cur = append(j.cur, client.OpPut(key, value, client.WithLease(j.lease)))
	} else {
		j.cur = append(j.cur, client.OpPut(key, value))
	}
	j.curBytes += size
	j.inBatch[key] = struct{}{}
}

// flush sends the current batch as one txn, first waiting for a slot when
// as many txns as allowed are in flight.
func (j *putManyJob) flush() {
	if len(j.cur) == 0 {
		return
	}
	for j.inflight >= j.conc {
		j.collect(<-j.results)
	}
	if j.failed != nil {
		return
	}
	j.batches++
	job := putManyResult{n: j.batches, count: len(j.cur), first: j.curFirst}
	ops := j.cur
	j.cur, j.curBytes = nil, 0
	clear(j.inBatch)
	ctx, cancel := j.c.callCtx()
	j.inflight++
	kv, results, prog := j.kv, j.results, j.prog
	j.c.m.goroutine(func() {
		defer cancel()
		resp, err := kv.Txn(ctx).Then(ops...).Commit()
		if err == nil {
			job.rev = headerRev(resp.Header)
			if prog != nil {
				prog.Add(int64(job.count))
			}
		}
		job.err = err
		results <- job
	})
}

// collect accounts for one finished batch.
func (j *putManyJob) collect(r putManyResult) {
	j.inflight--
	if r.err != nil {
		if j.failed == nil || r.n < j.failed.n {
			j.failed = &r
		}
		return
	}
	j.written += int64(r.count)
	j.rev = max(j.rev, r.rev)
}

// drain waits for every batch in flight.
func (j *putManyJob) drain() {
	for j.inflight > 0 {
		j.collect(<-j.results)
	}
}

// plural counts things in words: "1 key", "3 keys".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
