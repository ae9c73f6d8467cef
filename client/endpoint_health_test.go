package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// TestEndpointHealth: over TLS with client certificates (so the member's
// own client has the parent's TLS settings), a member is healthy; with an
// alarm raised it is not, and says which; a dead endpoint is not, naming
// it, within the caller's deadline.
func TestEndpointHealth(t *testing.T) {
	cl := etcdtest.StartT(t, etcdtest.Options{ClientTLS: true})
	cli := adminClient(t, client.Config{Endpoints: cl.ClientURLs(), TLS: cl.ClientTLSConfig()})
	ctx := adminCtx(t)
	ep := cl.ClientURLs()[0]

	for _, serializable := range []bool{false, true} {
		h := cli.EndpointHealth(ctx, ep, serializable)
		if !h.Healthy || h.Err != nil || h.Endpoint != ep || h.Took <= 0 {
			t.Fatalf("EndpointHealth(serializable %v) = %+v", serializable, h)
		}
	}

	ec, err := cli.EndpointClient(ep)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ec.Status(ctx, ep)
	ec.Close()
	if err != nil || st.Header.MemberId != cl.Member(0).ID() {
		t.Fatalf("the endpoint client's Status = %v, %v", st, err)
	}

	alarm := &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: cl.Member(0).ID(), Alarm: pb.AlarmType_NOSPACE}
	if _, err := pb.NewMaintenanceClient(cli.ActiveConnection()).Alarm(ctx, alarm); err != nil {
		t.Fatal(err)
	}
	h := cli.EndpointHealth(ctx, ep, false)
	if h.Healthy || !errors.Is(h.Err, client.ErrAlarmActive) || !strings.Contains(h.Err.Error(), "NOSPACE") {
		t.Fatalf("with an alarm raised: %+v", h)
	}
	if _, err := cli.AlarmDisarm(ctx, &client.AlarmMember{}); err != nil {
		t.Fatal(err)
	}

	dead := freePort(t)
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	h = cli.EndpointHealth(dctx, dead, false)
	var ce *client.ConnectError
	if h.Healthy || !errors.As(h.Err, &ce) || !strings.Contains(h.Err.Error(), dead) {
		t.Fatalf("a dead endpoint: %+v", h)
	}

	if _, err := cli.EndpointClient("nohost"); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("EndpointClient(nohost) = %v", err)
	}
}
