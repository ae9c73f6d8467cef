// Package client is an etcd v3 client written on google.golang.org/grpc and
// the protobuf types of go.etcd.io/etcd/api/v3.
//
// Its exported API follows the official go.etcd.io/etcd/client/v3, so a
// program written for clientv3 ports by changing one import:
//
//	import clientv3 "github.com/etcdscript/etcdscript/client"
//
//	cli, err := clientv3.New(clientv3.Config{
//		Endpoints:   []string{"127.0.0.1:2379"},
//		DialTimeout: 2 * time.Second,
//	})
//	if err != nil {
//		return err
//	}
//	defer cli.Close()
//	_, err = cli.Put(ctx, "greeting", "hello")
//
// # Connection
//
// A Client keeps one gRPC connection balanced round-robin over all its
// endpoints; an endpoint that fails is left out until it answers again, and
// so is a member that stops answering (see below). HTTP/2 keepalive pings
// are on by default (every 10 s), so the connection to a hung member is
// eventually closed. Every call waits for a ready endpoint until its context ends; if
// none became ready, the error is a *ConnectError that names the last
// connection error (a refused dial, a failed TLS handshake) and still
// satisfies errors.Is(err, context.DeadlineExceeded).
//
// # A hung member
//
// A member that keeps its connections open but stops answering (stopped by
// SIGSTOP, stalled, behind a network that drops its packets) is left out
// within about a second, long before keepalive gives up on it. The
// balancer counts, per endpoint, the unary calls in flight and the answers
// they got:
//
//   - When an endpoint has held calls for 500 ms without sending a byte of
//     any answer, new calls go to the other endpoints, and a probe (the
//     gRPC health service's Check, which etcd answers without raft or the
//     store) is sent to it on the same connection, with a 500 ms deadline.
//   - An answer to the probe, or to any call, puts the endpoint back in the
//     rotation at once: a member busy with one long call is probed about
//     twice a second, not shunned.
//   - No answer marks the member hung. Read-only calls waiting on it are
//     cancelled and sent again at once on another member, as the retry
//     policy allows reads. Writes waiting on it are left to their
//     deadline: one that may have reached the member is never sent again.
//     A hung member is probed about once a second until it answers.
//   - While every endpoint is suspect, calls go to all of them as before.
//
// Streams (Watch, LeaseKeepAlive, Snapshot, RangeStream) are not counted
// as calls, since a stream is open for as long as it is used, and a new
// stream avoids a suspect member. The watcher's and the lessor's streams
// resume by themselves, so they are moved: an endpoint holding one that
// nothing else has heard from for a second is probed (an idle watch looks
// the same on a live member and on a hung one), and when it is found hung
// those streams are ended and opened again on another member, each watch
// from the revision after the last one it delivered, so no event is lost
// or repeated. A Snapshot or RangeStream already on a hung member ends by
// keepalive or by its context. Other streams opened on ActiveConnection
// count as calls that never answer, so an endpoint holding one is probed
// about twice a second while it is open. With a single endpoint nothing is
// counted or probed. Probes pass through the interceptors of
// Config.DialOptions as calls of /grpc.health.v1.Health/Check. The counting costs no allocation
// per call; a read-only call on a client with several endpoints carries a
// cancellable context per attempt. Hedged reads (a second copy of a slow
// read sent elsewhere) were left out: they double the load of a slow
// cluster, and moving the reads of a hung member covers the case.
//
// # Retries
//
// The client repeats a call only when doing so cannot apply a write twice:
//
//   - Read-only calls (Get, a Txn with no put or delete in any branch,
//     MemberList, Status and the other queries) are repeated on any
//     Unavailable error (a member stopping, a lost connection, a lost leader)
//     with jittered backoff from about 10 ms to 500 ms, on whichever endpoint
//     the balancer picks next, until the call's context ends. A read waiting
//     on a member found hung is sent again at once on another one.
//   - Writes (Put, Delete, a Txn that writes, Compact, lease and admin
//     changes) are repeated only when the request provably never took
//     effect: gRPC found no usable connection before sending it (gRPC's
//     transparent retry), or the server refused it before proposing it to
//     raft (rpctypes.ErrNoLeader, ErrTooManyRequests, ErrNotCapable). A write
//     that fails any other way (the connection broke after sending, the
//     request timed out in raft) is returned as an error and may or may not
//     have been applied: read before writing again.
//   - With Username set, a call refused with rpctypes.ErrInvalidAuthToken or
//     ErrAuthOldRevision logs in again once and is repeated once. Concurrent
//     calls that see the same stale token share one login.
//
// # Large ranges
//
// Get reads a range in one answer, which the client holds whole. GetStream
// (etcd 3.7 servers) delivers it in parts of about the server's request
// limit, decoded. ReadRange, which clientv3 does not have, reads the same
// stream one key-value at a time from gRPC's receive buffers, asking for
// the next part only when the last is read, so a range of any size is read
// at one revision in about one part's memory; see RangeReader.
//
// # Server versions
//
// The client works with etcd 3.5, 3.6 and 3.7 servers (the tests run
// against all three). Everything but streamed ranges behaves the same on
// them. etcd 3.5 and 3.6 have no RangeStream, the call behind GetStream
// and ReadRange: they answer it with gRPC Unimplemented ("unknown method
// RangeStream"). What the client does about it:
//
//   - ReadRange falls back by itself: it reads the range with limited Range
//     requests of WithPageSize keys (DefaultPageSize, 1000, by default),
//     each from the key after the last one read, all at the revision of the
//     first page (or the WithRev given), so the range still reads as one
//     revision and memory stays near one page. Only the cost differs: the
//     server counts the rest of the range on every page. Revision filters
//     (WithMinModRev and the like), which etcd 3.7 refuses to stream, are
//     read in pages on every version.
//   - GetStream keeps clientv3's behaviour and delivers the server's
//     refusal on its channel, with its status (status.Code is
//     codes.Unimplemented); the error wraps ErrNoRangeStream, whose text
//     says that the server needs etcd 3.7. Use Get, or ReadRange, there.
//   - A client remembers the refusal, so later GetStream and ReadRange calls
//     do not pay a refused round trip first (which made every read of a
//     range on etcd 3.5 cost about two). A client is balanced over all its
//     endpoints and cannot tell which member its next call reaches, so it
//     remembers per client, for as long as its connections last: until it
//     opens a new connection (a reconnect, as after a member's restart into
//     a new version, or a first connection to another endpoint), its
//     endpoints change (SetEndpoints, or a Sync that finds other members),
//     or five minutes pass, so that a cluster upgraded to 3.7 under a
//     long-lived client is streamed again.
//     A refusal of one request (etcd 3.7 does not stream sort orders other
//     than by key, ascending) is not remembered.
//
// etcd 3.5 also names some server flags differently (the watch progress
// interval is --experimental-watch-progress-notify-interval there); that
// concerns the server's configuration, not the client.
//
// # Errors
//
// Errors from the server are the values of
// go.etcd.io/etcd/api/v3/v3rpc/rpctypes, so both err == rpctypes.ErrEmptyKey
// and errors.Is(err, rpctypes.ErrEmptyKey) hold. A call ended by its context
// returns the context's error (context.Canceled, context.DeadlineExceeded),
// wrapped in a *ConnectError when no endpoint was reachable. Bad input is
// found before anything is sent and wraps ErrInvalidArgument with a message
// naming what was wrong; an empty key is rpctypes.ErrEmptyKey and an
// unknown sort target or order rpctypes.ErrInvalidSortOption, as clientv3
// returns them. Nothing in this package panics on bad input: an invalid
// option, compare or Txn order is reported by the call that sends it.
//
// Size limits: a request above Config.MaxCallSendMsgSize, or above what the
// server accepts, wraps rpctypes.ErrRequestTooLarge; a response above
// Config.MaxCallRecvMsgSize wraps ErrResponseTooLarge (the server did the
// work; only its answer was refused).
//
// Classify maps any of these errors to a stable Code and a retryable flag;
// it is the one classification shared by Go hosts and the Lua layer.
//
// # Differences from clientv3
//
// A program written for clientv3 v3.7 gets the same answers, errors and
// response shapes, except for these deliberate differences:
//
//   - Nothing panics on bad input. Where clientv3 panics (an unknown
//     Compare operator or a value of the wrong type, If after Then, an
//     option that means nothing for the operation), the call that sends
//     the request (Txn.Commit, Do, Put, ...) returns an error wrapping
//     ErrInvalidArgument, and nothing is sent. A nil context, a negative
//     limit or revision, NoLease given to KeepAlive or KeepAliveOnce and a
//     nil AlarmMember are refused the same way. Compare also takes "==" for
//     "=", a []byte value for Value and any integer type that fits in an
//     int64.
//   - A call that found no endpoint reachable before its context ended
//     returns a *ConnectError naming the last connection error; errors.Is
//     with the context's error still holds.
//   - HTTP/2 keepalive pings are on by default (Config.DialKeepAliveTime).
//   - The retry policy above: reads are repeated until their context ends
//     (or Config.MaxUnaryRetries sendings), writes only when they provably
//     did not take effect. New with a DialTimeout waits for a connection and
//     the login, as clientv3 before 3.7 did; without one it returns at once.
//   - Config.Username logs in even with an empty Password (clientv3 logs in
//     only with both set). Client.Dial's connection does not add the auth
//     token to calls.
//   - A watch's buffer is bounded (see Watcher). A WithRequireLeader watch
//     whose member lost its leader moves to another member, and ends with
//     rpctypes.ErrNoLeader only when none with a leader answers.
//   - ErrKeepAliveHalted unwraps to its reason, and KeepAliveError tells why
//     a keepalive channel closed.
//
// Not offered: NewCtxClient and its Option and WithZapLogger, the
// New...From...Client constructors over generated gRPC clients (except
// NewWatchFromWatchClient), the Retry...Client wrappers, and the
// deprecated or test-only SetLogger, Client.WithLogger, ClientLogLevel,
// WithWatchBufLog and LeaseResponseChSize.
//
// # Metrics and other interceptors
//
// Config.DialOptions are added to every connection the client opens: the
// balanced one and the per-endpoint connections of Maintenance.Status,
// HashKV, Defragment and MoveLeader. gRPC interceptors placed there see every
// call and stream, so metrics and tracing need no support from this package.
// With go-grpc-middleware's prometheus provider:
//
//	metrics := grpcprom.NewClientMetrics()
//	prometheus.MustRegister(metrics)
//	cli, err := client.New(client.Config{
//		Endpoints: endpoints,
//		DialOptions: []grpc.DialOption{
//			grpc.WithChainUnaryInterceptor(metrics.UnaryClientInterceptor()),
//			grpc.WithChainStreamInterceptor(metrics.StreamClientInterceptor()),
//		},
//	})
//
// grpc_client_handled_total then counts each call by method (Put, Range,
// Txn, ...) and status code. A call repeated by the retry policy counts once
// per attempt, since each attempt is a gRPC call of its own. Use the Chain
// forms so that interceptors from several places compose. See the example
// of Config.
package client
