package bindings

import (
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// BenchmarkEventTable measures building one watch event as Lua tables, the
// cost each event adds on top of the client.
func BenchmarkEventTable(b *testing.B) {
	ev := &mvccpb.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("bench/watch/000000001"), Value: []byte("vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"), CreateRevision: 1234567, ModRevision: 1234567, Version: 1}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		eventTable(ev)
	}
}
