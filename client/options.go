package client

// noPrefixEnd is the range end meaning "to the end of the key space".
var noPrefixEnd = []byte{0}

// WithLease attaches a lease to a put.
func WithLease(leaseID LeaseID) OpOption { return func(op *Op) { op.leaseID = leaseID } }

// WithLimit limits the number of keys a get returns; 0 means no limit. A
// negative limit is an error.
func WithLimit(n int64) OpOption {
	return func(op *Op) {
		if n < 0 {
			op.fail(invalidArg("WithLimit(%d): the limit must not be negative", n))
		}
		op.limit = n
	}
}

// WithRev reads at revision rev (a get), or starts a watch there. 0 means
// the current revision; a negative revision is an error.
func WithRev(rev int64) OpOption {
	return func(op *Op) {
		if rev < 0 {
			op.fail(invalidArg("WithRev(%d): the revision must not be negative", rev))
		}
		op.rev = rev
	}
}

// WithSort orders the result of a get. Ascending by key is what the server
// does anyway, so it is sent as no sort (the server then need not read the
// whole range before applying a limit).
func WithSort(target SortTarget, order SortOrder) OpOption {
	return func(op *Op) {
		if target == SortByKey && order == SortAscend {
			order = SortNone
		}
		op.sort = &SortOption{Target: target, Order: order}
	}
}

// GetPrefixRangeEnd returns the range end that selects every key starting
// with prefix.
func GetPrefixRangeEnd(prefix string) string { return string(prefixEnd([]byte(prefix))) }

func prefixEnd(key []byte) []byte {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] < 0xff {
			end := make([]byte, i+1)
			copy(end, key)
			end[i]++
			return end
		}
	}
	return noPrefixEnd
}

// WithPrefix selects every key starting with the op's key; with an empty key,
// every key.
func WithPrefix() OpOption {
	return func(op *Op) {
		op.isOptsWithPrefix = true
		if len(op.key) == 0 {
			op.key, op.end = []byte{0}, []byte{0}
			return
		}
		op.end = prefixEnd(op.key)
	}
}

// WithRange selects the keys in [key, endKey).
func WithRange(endKey string) OpOption {
	return func(op *Op) {
		op.isOptsWithRange = true
		op.end = []byte(endKey)
	}
}

// WithFromKey selects every key greater than or equal to the op's key.
func WithFromKey() OpOption {
	return func(op *Op) {
		op.isOptsWithFromKey = true
		if len(op.key) == 0 {
			op.key = []byte{0}
		}
		op.end = []byte{0}
	}
}

// WithPageSize sets how many keys each Range request of a paged read asks
// for. ReadRange reads a server without streamed ranges (etcd before 3.7)
// in pages, DefaultPageSize keys each unless this option says otherwise;
// memory then holds about one page. Other calls ignore it. A size below 1
// is an invalid argument.
func WithPageSize(n int64) OpOption {
	return func(op *Op) {
		if n < 1 {
			op.fail(invalidArg("WithPageSize(%d): the page size must be at least 1", n))
		}
		op.pageSize = n
	}
}

// WithSerializable lets a get be served by the member it reaches, without a
// round through the leader: faster, possibly stale.
func WithSerializable() OpOption { return func(op *Op) { op.serializable = true } }

// WithKeysOnly makes a get return keys without values.
func WithKeysOnly() OpOption { return func(op *Op) { op.keysOnly = true } }

// WithCountOnly makes a get return only the count of keys.
func WithCountOnly() OpOption { return func(op *Op) { op.countOnly = true } }

// WithMinModRev filters out keys modified before rev.
func WithMinModRev(rev int64) OpOption { return func(op *Op) { op.minModRev = rev } }

// WithMaxModRev filters out keys modified after rev.
func WithMaxModRev(rev int64) OpOption { return func(op *Op) { op.maxModRev = rev } }

// WithMinCreateRev filters out keys created before rev.
func WithMinCreateRev(rev int64) OpOption { return func(op *Op) { op.minCreateRev = rev } }

// WithMaxCreateRev filters out keys created after rev.
func WithMaxCreateRev(rev int64) OpOption { return func(op *Op) { op.maxCreateRev = rev } }

// WithFirstCreate gets the key with the lowest create revision in the range.
func WithFirstCreate() []OpOption { return withTop(SortByCreateRevision, SortAscend) }

// WithLastCreate gets the key with the highest create revision in the range.
func WithLastCreate() []OpOption { return withTop(SortByCreateRevision, SortDescend) }

// WithFirstKey gets the lexically first key in the range.
func WithFirstKey() []OpOption { return withTop(SortByKey, SortAscend) }

// WithLastKey gets the lexically last key in the range.
func WithLastKey() []OpOption { return withTop(SortByKey, SortDescend) }

// WithFirstRev gets the key with the lowest mod revision in the range.
func WithFirstRev() []OpOption { return withTop(SortByModRevision, SortAscend) }

// WithLastRev gets the key with the highest mod revision in the range.
func WithLastRev() []OpOption { return withTop(SortByModRevision, SortDescend) }

func withTop(target SortTarget, order SortOrder) []OpOption {
	return []OpOption{WithPrefix(), WithSort(target, order), WithLimit(1)}
}

// WithProgressNotify makes a watch receive periodic progress responses.
func WithProgressNotify() OpOption { return func(op *Op) { op.progressNotify = true } }

// WithCreatedNotify makes a watch deliver its created response.
func WithCreatedNotify() OpOption { return func(op *Op) { op.createdNotify = true } }

// WithFilterPut drops put events from a watch.
func WithFilterPut() OpOption { return func(op *Op) { op.filterPut = true } }

// WithFilterDelete drops delete events from a watch.
func WithFilterDelete() OpOption { return func(op *Op) { op.filterDelete = true } }

// WithPrevKV returns the previous key-value of a put or delete, or the
// previous value in watch events.
func WithPrevKV() OpOption { return func(op *Op) { op.prevKV = true } }

// WithFragment lets the server split large watch responses; the Watcher
// joins them again.
func WithFragment() OpOption { return func(op *Op) { op.fragment = true } }

// WithIgnoreValue updates a key's lease keeping its value.
func WithIgnoreValue() OpOption { return func(op *Op) { op.ignoreValue = true } }

// WithIgnoreLease updates a key's value keeping its lease.
func WithIgnoreLease() OpOption { return func(op *Op) { op.ignoreLease = true } }

// IsOptsWithPrefix reports whether opts contain WithPrefix.
func IsOptsWithPrefix(opts []OpOption) bool {
	op := &Op{}
	op.applyOpts(opts)
	return op.isOptsWithPrefix
}

// IsOptsWithFromKey reports whether opts contain WithFromKey.
func IsOptsWithFromKey(opts []OpOption) bool {
	op := &Op{}
	op.applyOpts(opts)
	return op.isOptsWithFromKey
}
