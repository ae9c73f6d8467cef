package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
	bolt "go.etcd.io/bbolt"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestStatusHashDefragMatchOfficial asks each member of a 3-member cluster
// for its status and hash through both clients: the answers must come from
// the member named (its own id in the header) and agree with the official
// client's.
func TestStatusHashDefragMatchOfficial(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)
	for i := range 20 {
		if _, err := ours.Put(ctx, fmt.Sprintf("k%d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	last, err := ours.Put(ctx, "last", "v")
	if err != nil {
		t.Fatal(err)
	}
	rev := last.Header.Revision
	leader := cl.WaitLeader(t)

	var hashes []uint32
	for _, m := range cl.Members() {
		for _, ep := range []string{m.Endpoint(), m.ClientURL()} {
			got, err := ours.Status(ctx, ep)
			if err != nil {
				t.Fatalf("Status(%s): %v", ep, err)
			}
			want, err := ref.Status(ctx, m.Endpoint())
			if err != nil {
				t.Fatalf("official Status(%s): %v", ep, err)
			}
			if got.Header.MemberId != m.ID() {
				t.Fatalf("Status(%s) answered by %x, want %s (%x)", ep, got.Header.MemberId, m.Name(), m.ID())
			}
			if got.Header.MemberId != want.Header.MemberId || got.Header.ClusterId != want.Header.ClusterId ||
				got.Version != want.Version || got.Leader != want.Leader || got.Leader != leader.ID() ||
				got.IsLearner != want.IsLearner || got.DbSizeQuota != want.DbSizeQuota ||
				got.StorageVersion != want.StorageVersion || got.RaftTerm != want.RaftTerm {
				t.Fatalf("Status(%s):\n ours     %v\n official %v", ep, (*pb.StatusResponse)(got), (*pb.StatusResponse)(want))
			}
		}

		got, err := ours.HashKV(ctx, m.Endpoint(), rev)
		if err != nil {
			t.Fatalf("HashKV(%s): %v", m.Name(), err)
		}
		want, err := ref.HashKV(ctx, m.Endpoint(), rev)
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != want.Hash || got.CompactRevision != want.CompactRevision || got.Header.MemberId != m.ID() {
			t.Fatalf("HashKV(%s) = %v, official %v", m.Name(), (*pb.HashKVResponse)(got), (*pb.HashKVResponse)(want))
		}
		hashes = append(hashes, got.Hash)

		if _, err := ours.Defragment(ctx, m.Endpoint()); err != nil {
			t.Fatalf("Defragment(%s): %v", m.Name(), err)
		}
	}
	if hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Fatalf("members disagree on the hash at %d: %x", rev, hashes)
	}

	// A defragmented member still hashes the same.
	got, err := ours.HashKV(ctx, cl.Member(0).Endpoint(), rev)
	if err != nil || got.Hash != hashes[0] {
		t.Fatalf("HashKV after defragment = %v, %v", got, err)
	}

	al, err := ours.AlarmList(ctx)
	if err != nil || len(al.Alarms) != 0 {
		t.Fatalf("AlarmList = %v, %v", al, err)
	}
	if _, err := ours.AlarmDisarm(ctx, &client.AlarmMember{}); err != nil {
		t.Fatalf("AlarmDisarm(all): %v", err)
	}
}

// TestMoveLeader moves the leadership of a 3-member cluster twice: once
// through a client that knows only a follower (the leader is found through
// the member list), once through a client that knows every member.
func TestMoveLeader(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{Size: 3})
	ctx := adminCtx(t)
	for round, onlyFollower := range []bool{true, false} {
		leader := cl.WaitLeader(t)
		var followers []*etcdtest.Member
		for _, m := range cl.Members() {
			if m != leader {
				followers = append(followers, m)
			}
		}
		eps := cl.Endpoints()
		if onlyFollower {
			eps = []string{followers[0].Endpoint()}
		}
		cli := adminClient(t, client.Config{Endpoints: eps})
		target := followers[len(followers)-1]
		resp, err := cli.MoveLeader(ctx, target.ID())
		if err != nil {
			t.Fatalf("round %d: MoveLeader(%s): %v", round, target.Name(), err)
		}
		if resp == nil {
			t.Fatalf("round %d: MoveLeader answered nil", round)
		}
		// The transfer is done when MoveLeader returns; wait only for
		// every member to agree.
		if now := cl.WaitLeader(t); now != target {
			t.Fatalf("round %d: leader is %s, want %s", round, now.Name(), target.Name())
		}
		st, err := cli.Status(ctx, target.Endpoint())
		if err != nil || st.Leader != target.ID() {
			t.Fatalf("round %d: Status of the new leader = %v, %v", round, st, err)
		}
	}

	cli := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	if _, err := cli.MoveLeader(ctx, 0); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("MoveLeader(0) = %v", err)
	}
	// An id that is no member is refused by the leader alike for both.
	ref := officialClient(t, clientv3.Config{Endpoints: []string{cl.WaitLeader(t).Endpoint()}})
	_, err := cli.MoveLeader(ctx, 42)
	_, rerr := ref.MoveLeader(ctx, 42)
	if err == nil || rerr == nil || err.Error() != rerr.Error() {
		t.Fatalf("MoveLeader(42) = %v, official %v", err, rerr)
	}
}

// snapshotOf reads a snapshot stream into a file with a small buffer.
func snapshotOf(t *testing.T, r io.Reader, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := io.CopyBuffer(f, r, make([]byte, 4096))
	if err != nil {
		t.Fatalf("read snapshot: %v", err)
	}
	return n
}

// checkSnapshot verifies a snapshot file as etcdutl snapshot restore does
// (the backend followed by its SHA-256), then opens the backend and counts
// the revisions stored in it.
func checkSnapshot(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < sha256.Size+1 {
		t.Fatalf("snapshot of %d bytes", len(data))
	}
	db, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if h := sha256.Sum256(db); !bytes.Equal(h[:], sum) {
		t.Fatalf("snapshot checksum mismatch")
	}
	dbPath := path + ".db"
	if err := os.WriteFile(dbPath, db, 0o600); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(dbPath, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open snapshot backend: %v", err)
	}
	defer bdb.Close()
	n := 0
	err = bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("key"))
		if b == nil {
			return errors.New("no key bucket")
		}
		n = b.Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSnapshotMatchesOfficial(t *testing.T) {
	cl := etcdtest.StartServerT(t, etcdtest.ServerOptions{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)
	val := strings.Repeat("x", 1024)
	const keys = 1500 // about 1.5 MiB of values, dozens of stream messages
	for i := 0; i < keys; i += 100 {
		txn := ours.Txn(ctx)
		var ops []client.Op
		for j := i; j < i+100; j++ {
			ops = append(ops, client.OpPut(fmt.Sprintf("snap/%05d", j), val))
		}
		if _, err := txn.Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()

	resp, err := ours.SnapshotWithVersion(ctx)
	if err != nil {
		t.Fatalf("SnapshotWithVersion: %v", err)
	}
	ourSize := snapshotOf(t, resp.Snapshot, filepath.Join(dir, "ours"))
	if err := resp.Snapshot.Close(); err != nil {
		t.Fatal(err)
	}
	refResp, err := ref.SnapshotWithVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refSize := snapshotOf(t, refResp.Snapshot, filepath.Join(dir, "ref"))
	refResp.Snapshot.Close()

	// The version is the storage version, which a member sets a moment
	// after it starts: empty or not, both clients must see the same.
	if resp.Version != refResp.Version {
		t.Fatalf("snapshot version %q, official %q", resp.Version, refResp.Version)
	}
	// etcd 3.7 sends no header in the stream; whatever it sends must be
	// passed on as is.
	if (resp.Header == nil) != (refResp.Header == nil) || resp.Header.GetMemberId() != refResp.Header.GetMemberId() {
		t.Fatalf("snapshot header %v, official %v", resp.Header, refResp.Header)
	}
	if d := ourSize - refSize; ourSize < keys*1024 || d < -8192 || d > 8192 {
		t.Fatalf("snapshot of %d bytes, official %d", ourSize, refSize)
	}
	if n, m := checkSnapshot(t, filepath.Join(dir, "ours")), checkSnapshot(t, filepath.Join(dir, "ref")); n < keys || n != m {
		t.Fatalf("snapshot holds %d revisions, official %d; want at least %d", n, m, keys)
	}

	// The deprecated Snapshot reads the same stream.
	rc, err := ours.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size := snapshotOf(t, rc, filepath.Join(dir, "plain"))
	rc.Close()
	if d := size - ourSize; d < -8192 || d > 8192 {
		t.Fatalf("Snapshot gave %d bytes, SnapshotWithVersion %d", size, ourSize)
	}
}

// TestSnapshotAbandoned stops reading a snapshot half way, by Close and by
// cancelling its context: reads fail, and nothing is left running (the
// package's TestMain checks for goroutines).
func TestSnapshotAbandoned(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)
	val := strings.Repeat("y", 4096)
	for i := range 100 {
		if _, err := ours.Put(ctx, fmt.Sprintf("big/%d", i), val); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 1000)

	rc, err := ours.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := rc.Read(buf); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read after Close = %v", err)
	}

	sctx, cancel := context.WithCancel(ctx)
	rc, err = ours.Snapshot(sctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, context.Canceled) {
		t.Fatalf("reading after cancel = %v", err)
	}
	rc.Close()

	// A snapshot never closed is ended by Client.Close.
	rc, err = ours.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	ours.Close()
	if _, err := io.Copy(io.Discard, rc); err == nil {
		t.Fatal("snapshot read to the end after Client.Close")
	}
}

func TestMaintenanceBadInput(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{})
	ours := adminClient(t, client.Config{Endpoints: cl.Endpoints()})
	ctx := adminCtx(t)
	for _, ep := range []string{"", "nohost", "ftp://127.0.0.1:1", "127.0.0.1:port"} {
		if _, err := ours.Status(ctx, ep); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("Status(%q) = %v, want ErrInvalidArgument", ep, err)
		}
	}
	if _, err := ours.HashKV(ctx, cl.Endpoints()[0], -1); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("HashKV(rev -1) = %v", err)
	}
	if _, err := ours.AlarmDisarm(ctx, nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("AlarmDisarm(nil) = %v", err)
	}
	if _, err := ours.Downgrade(ctx, client.DowngradeAction(9), "3.6"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("Downgrade(9) = %v", err)
	}
	//lint:ignore SA1012 a nil context is what is tested.
	if _, err := ours.Snapshot(nil); !errors.Is(err, client.ErrInvalidArgument) { //nolint:staticcheck
		t.Errorf("Snapshot(nil) = %v", err)
	}
	//lint:ignore SA1012 a nil context is what is tested.
	if _, err := ours.Status(nil, cl.Endpoints()[0]); !errors.Is(err, client.ErrInvalidArgument) { //nolint:staticcheck
		t.Errorf("Status(nil) = %v", err)
	}

	// An endpoint nobody listens on: the call waits for it until its
	// deadline and then says which endpoint could not be reached.
	dead := freePort(t)
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := ours.Status(sctx, dead)
	var ce *client.ConnectError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ce) || ce.Endpoint != dead {
		t.Fatalf("Status of a dead endpoint = %v", err)
	}

	// Calls after Close fail at once.
	ours.Close()
	if _, err := ours.Status(ctx, cl.Endpoints()[0]); !errors.Is(err, client.ErrClientClosed) {
		t.Fatalf("Status after Close = %v", err)
	}
}

// TestStatusOverTLS checks that per-endpoint connections use the client's
// TLS settings: the cluster requires a client certificate.
func TestStatusOverTLS(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{ClientTLS: true})
	ours := adminClient(t, client.Config{Endpoints: cl.ClientURLs(), TLS: cl.ClientTLSConfig()})
	ref := officialClient(t, clientv3.Config{Endpoints: cl.Endpoints(), TLS: cl.ClientTLSConfig()})
	ctx := adminCtx(t)
	m := cl.Member(0)
	want, err := ref.Status(ctx, m.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{m.ClientURL(), m.Endpoint()} {
		got, err := ours.Status(ctx, ep)
		if err != nil {
			t.Fatalf("Status(%s) over TLS: %v", ep, err)
		}
		if got.Header.MemberId != want.Header.MemberId || got.Version != want.Version {
			t.Fatalf("Status(%s) = %v, official %v", ep, (*pb.StatusResponse)(got), (*pb.StatusResponse)(want))
		}
	}
	// http:// names a plain connection, which this server refuses.
	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, err := ours.Status(sctx, "http://"+m.Endpoint()); err == nil {
		t.Fatal("Status over plain HTTP to a TLS member succeeded")
	}
}
