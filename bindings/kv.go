package bindings

import (
	lua "github.com/yuin/gopher-lua"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"strconv"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/luart"
)

// Option sets, built once: checking a table against one allocates nothing.
var (
	rangeOptionNames = []string{
		"prefix", "range_end", "from_key", "limit", "rev", "sort", "serializable",
		"keys_only", "count_only", "min_mod_revision", "max_mod_revision",
		"min_create_revision", "max_create_revision",
	}
	rangeOptions = luart.NewOptionSet(rangeOptionNames...)
	// getOptions holds the range options too, so that a range option given
	// to get is refused with a pointer to etcd.range rather than as a typo.
	getOptions    = rangeOptions
	scanOptions   = luart.NewOptionSet(append(append([]string(nil), rangeOptionNames...), "page_size")...)
	putOptions    = luart.NewOptionSet("lease", "prev_kv", "ignore_value", "ignore_lease")
	deleteOptions = luart.NewOptionSet("prefix", "range_end", "from_key", "prev_kv")
	compactOpts   = luart.NewOptionSet("physical")
	sortOptions   = luart.NewOptionSet("target", "order")
)

// rangeSpan converts prefix, range_end and from_key, which exclude each
// other, and reports whether the span covers more than the key itself.
func rangeSpan(o *luart.Options, opts []client.OpOption) ([]client.OpOption, bool) {
	if o.Raw() == nil {
		return opts, false
	}
	n := 0
	var first string
	if o.Bool("prefix", false) {
		opts = append(opts, client.WithPrefix())
		n, first = n+1, "prefix"
	}
	if o.IsSet("range_end") {
		opts = append(opts, client.WithRange(o.String("range_end", "")))
		if n > 0 {
			o.Fail("range_end", "cannot be combined with %s", first)
		}
		n, first = n+1, "range_end"
	}
	if o.Bool("from_key", false) {
		opts = append(opts, client.WithFromKey())
		if n > 0 {
			o.Fail("from_key", "cannot be combined with %s", first)
		}
		n++
	}
	return opts, n > 0
}

// wholeSpace reports whether the options select every key from the start
// of the key space (prefix or from_key), the one case where an empty key
// means something for a read.
func wholeSpace(o *luart.Options) bool {
	return o.Raw() != nil && (o.Bool("prefix", false) || o.Bool("from_key", false))
}

// readOpts converts the options a read shares with range: rev,
// serializable, keys_only and the revision filters.
func readOpts(o *luart.Options, opts []client.OpOption) []client.OpOption {
	if o.Raw() == nil {
		return opts
	}
	if rev := o.Revision("rev"); rev > 0 {
		opts = append(opts, client.WithRev(rev))
	}
	return filterOpts(o, opts)
}

// filterOpts converts serializable, keys_only and the revision filters.
func filterOpts(o *luart.Options, opts []client.OpOption) []client.OpOption {
	if o.Raw() == nil {
		return opts
	}
	if o.Bool("serializable", false) {
		opts = append(opts, client.WithSerializable())
	}
	if o.Bool("keys_only", false) {
		opts = append(opts, client.WithKeysOnly())
	}
	if r := o.Revision("min_mod_revision"); r > 0 {
		opts = append(opts, client.WithMinModRev(r))
	}
	if r := o.Revision("max_mod_revision"); r > 0 {
		opts = append(opts, client.WithMaxModRev(r))
	}
	if r := o.Revision("min_create_revision"); r > 0 {
		opts = append(opts, client.WithMinCreateRev(r))
	}
	if r := o.Revision("max_create_revision"); r > 0 {
		opts = append(opts, client.WithMaxCreateRev(r))
	}
	return opts
}

// rangeOpts converts every range option of o.
func rangeOpts(o *luart.Options, opts []client.OpOption) []client.OpOption {
	if o.Raw() == nil {
		return opts
	}
	opts, _ = rangeSpan(o, opts)
	opts = readOpts(o, opts)
	if n := o.Int("limit", 0); n != 0 {
		if n < 0 {
			o.Fail("limit", "must not be negative, got %d", n)
		}
		opts = append(opts, client.WithLimit(n))
	}
	if o.IsSet("sort") {
		target, order := sortOpt(o)
		opts = append(opts, client.WithSort(target, order))
	}
	if o.Bool("count_only", false) {
		opts = append(opts, client.WithCountOnly())
	}
	return opts
}

var sortTargets = map[string]client.SortTarget{
	"key": client.SortByKey, "version": client.SortByVersion, "create": client.SortByCreateRevision,
	"mod": client.SortByModRevision, "value": client.SortByValue,
}

// sortOpt reads opts.sort = {target = "key"|"version"|"create"|"mod"|"value",
// order = "asc"|"desc"}; the target defaults to key and the order to asc.
func sortOpt(o *luart.Options) (client.SortTarget, client.SortOrder) {
	t := o.Table("sort")
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok || !sortOptions.Has(string(ks)) {
			o.Fail("sort", "unknown field %s (sort takes target and order)", k.String())
		}
		if _, ok := v.(lua.LString); !ok {
			o.Fail("sort", "sort.%s: string expected, got %s", string(ks), v.Type().String())
		}
	}
	target := client.SortByKey
	if v, ok := t.RawGetString("target").(lua.LString); ok {
		st, known := sortTargets[string(v)]
		if !known {
			o.Fail("sort", "sort.target must be \"key\", \"version\", \"create\", \"mod\" or \"value\", got %q", string(v))
		}
		target = st
	}
	order := client.SortAscend
	if v, ok := t.RawGetString("order").(lua.LString); ok {
		switch v {
		case "asc", "ascend":
			order = client.SortAscend
		case "desc", "descend":
			order = client.SortDescend
		default:
			o.Fail("sort", "sort.order must be \"asc\" or \"desc\", got %q", string(v))
		}
	}
	return target, order
}

// keyArg reads a key. An empty key raises empty_key unless allowEmpty
// (a read of the whole key space).
func keyArg(a luart.Args, n int, key string, allowEmpty bool) {
	if key == "" && !allowEmpty {
		a.Key(n, "key") // raises empty_key
	}
}

// get is etcd.get(key [, opts]): the kv or nil, and the header.
func (c *conn) get(L *lua.LState) int {
	const fn = "etcd.get"
	a := c.args(L, fn)
	b := c.off
	key := a.String(b+1, "key")
	o := a.Options(b+2, "opts", getOptions)
	if o.Raw() != nil {
		for _, name := range [...]string{"prefix", "range_end", "from_key", "limit", "sort", "count_only"} {
			if o.IsSet(name) {
				o.Fail(name, "etcd.get reads one key; use etcd.range or etcd.scan for %s", name)
			}
		}
	}
	keyArg(a, b+1, key, false)
	opts := readOpts(&o, nil)
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	ctx, cancel := c.callCtx()
	resp, err := kv.Get(ctx, key, opts...)
	cancel()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	if len(resp.Kvs) == 0 {
		// nil is the contract; a script that indexes it anyway gets an
		// error naming this call.
		luart.NoteNil(L, fn+"("+strconv.Quote(key)+")", "the key does not exist",
			"local kv = etcd.get(k); if kv then ... end")
		L.Push(lua.LNil)
	} else {
		L.Push(kvTable(resp.Kvs[0]))
	}
	L.Push(c.m.headerTable(L, resp.Header))
	return 2
}

// rangeFn is etcd.range(key [, opts]): {kvs, count, more, revision}.
func (c *conn) rangeFn(L *lua.LState) int {
	const fn = "etcd.range"
	a := c.args(L, fn)
	b := c.off
	key := a.String(b+1, "key")
	o := a.Options(b+2, "opts", rangeOptions)
	keyArg(a, b+1, key, wholeSpace(&o))
	opts := rangeOpts(&o, nil)
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	ctx, cancel := c.callCtx()
	resp, err := kv.Get(ctx, key, opts...)
	cancel()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	L.Push(rangeTable(L, (*pb.RangeResponse)(resp), headerRev(resp.Header)))
	return 1
}

// put is etcd.put(key, value [, opts]): {revision, prev_kv}.
func (c *conn) put(L *lua.LState) int {
	const fn = "etcd.put"
	a := c.args(L, fn)
	b := c.off
	key := a.String(b+1, "key")
	o := a.Options(b+3, "opts", putOptions)
	ignoreValue := o.Raw() != nil && o.Bool("ignore_value", false)
	var value string
	if ignoreValue && L.Get(b+2) == lua.LNil {
		// The value is kept; none need be given.
	} else {
		value = a.String(b+2, "value")
	}
	keyArg(a, b+1, key, false)
	opts := putOpts(&o, nil)
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	ctx, cancel := c.callCtx()
	resp, err := kv.Put(ctx, key, value, opts...)
	cancel()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	t := L.CreateTable(0, 2)
	t.RawSetString("revision", num(headerRev(resp.Header)))
	if resp.PrevKv != nil {
		t.RawSetString("prev_kv", kvTable(resp.PrevKv))
	}
	L.Push(t)
	return 1
}

// putOpts converts the options of a put.
func putOpts(o *luart.Options, opts []client.OpOption) []client.OpOption {
	if o.Raw() == nil {
		return opts
	}
	if id, ok := optLease(o, "lease"); ok && id != client.NoLease {
		opts = append(opts, client.WithLease(id))
	}
	if o.Bool("prev_kv", false) {
		opts = append(opts, client.WithPrevKV())
	}
	if o.Bool("ignore_value", false) {
		opts = append(opts, client.WithIgnoreValue())
	}
	if o.Bool("ignore_lease", false) {
		opts = append(opts, client.WithIgnoreLease())
	}
	return opts
}

// delete is etcd.delete(key [, opts]): {deleted, prev_kvs, revision}. An
// empty key is refused even with prefix: deleting the whole key space by
// way of an empty variable is too easy a mistake.
func (c *conn) delete(L *lua.LState) int {
	const fn = "etcd.delete"
	a := c.args(L, fn)
	b := c.off
	key := a.String(b+1, "key")
	o := a.Options(b+2, "opts", deleteOptions)
	keyArg(a, b+1, key, false)
	opts := deleteOpts(&o, nil)
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	ctx, cancel := c.callCtx()
	resp, err := kv.Delete(ctx, key, opts...)
	cancel()
	if err != nil {
		c.m.raise(L, fn, key, err)
	}
	L.Push(deleteTable(L, (*pb.DeleteRangeResponse)(resp), headerRev(resp.Header)))
	return 1
}

// deleteOpts converts the options of a delete.
func deleteOpts(o *luart.Options, opts []client.OpOption) []client.OpOption {
	if o.Raw() == nil {
		return opts
	}
	opts, _ = rangeSpan(o, opts)
	if o.Bool("prev_kv", false) {
		opts = append(opts, client.WithPrevKV())
	}
	return opts
}

// compact is etcd.compact(rev [, {physical=true}]): {revision}.
func (c *conn) compact(L *lua.LState) int {
	const fn = "etcd.compact"
	a := c.args(L, fn)
	b := c.off
	rev := a.Revision(b+1, "rev")
	if rev == 0 {
		a.Fail(b+1, "rev", "revision must be positive")
	}
	o := a.Options(b+2, "opts", compactOpts)
	var copts []client.CompactOption
	if o.Bool("physical", false) {
		copts = append(copts, client.WithCompactPhysical())
	}
	kv, err := c.kv()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	ctx, cancel := c.callCtx()
	resp, err := kv.Compact(ctx, rev, copts...)
	cancel()
	if err != nil {
		c.m.raise(L, fn, "", err)
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("revision", num(headerRev(resp.Header)))
	L.Push(t)
	return 1
}
