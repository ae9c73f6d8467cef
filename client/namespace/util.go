package namespace

import (
	"bytes"

	"github.com/etcdscript/etcdscript/client"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// prefixed is the key of k inside the namespace pfx, in a new slice.
func prefixed(pfx, k []byte) []byte {
	out := make([]byte, 0, len(pfx)+len(k))
	return append(append(out, pfx...), k...)
}

// interval maps the key range [key, end) of a request to the namespace pfx.
// An empty end is one key. An end of "\x00" means "to the end of the
// keyspace", which inside a namespace is the end of the namespace.
func interval(pfx, key, end []byte) ([]byte, []byte) {
	if len(pfx) == 0 {
		return key, end
	}
	switch {
	case len(end) == 0:
		return prefixed(pfx, key), nil
	case len(end) == 1 && end[0] == 0:
		// With key "\x00" this is the whole namespace but for the key
		// equal to the prefix, which would read as the empty key.
		return prefixed(pfx, key), []byte(client.GetPrefixRangeEnd(string(pfx)))
	default:
		return prefixed(pfx, key), prefixed(pfx, end)
	}
}

// strip removes pfx from the key of kv, in place.
func strip(pfx []byte, kv *mvccpb.KeyValue) {
	if kv != nil && bytes.HasPrefix(kv.Key, pfx) {
		kv.Key = kv.Key[len(pfx):]
	}
}

func stripAll(pfx []byte, kvs []*mvccpb.KeyValue) {
	for _, kv := range kvs {
		strip(pfx, kv)
	}
}

// keyRange is an option that sets an op's key and range end as computed,
// after whatever the caller's options did to them.
func keyRange(key, end []byte) client.OpOption {
	return func(op *client.Op) {
		op.WithKeyBytes(key)
		op.WithRangeBytes(end)
	}
}
