package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// ErrAlarmActive is wrapped by the error of EndpointHealth when the member
// answered but the cluster has an alarm raised: etcdctl endpoint health
// counts such a member as unhealthy.
var ErrAlarmActive = errors.New("etcdclient: active alarm")

// EndpointClient returns a new client that talks to the member at endpoint
// only, with this client's TLS configuration, credentials, keepalive and
// dial options. It does not wait for the connection: its calls do, until
// their context ends, so a member that is down costs a call its own
// deadline and no more. The caller closes it.
func (c *Client) EndpointClient(endpoint string) (*Client, error) {
	if _, err := parseEndpoint(endpoint, c.cfg.TLS != nil); err != nil {
		return nil, err
	}
	cfg := c.cfg
	cfg.Endpoints = []string{endpoint}
	cfg.DialTimeout = 0
	cfg.AutoSyncInterval = 0
	cfg.RejectOldCluster = false
	cfg.Context = c.ctx
	return New(cfg)
}

// EndpointHealth is the health of one member as etcdctl endpoint health
// reports it.
type EndpointHealth struct {
	// Endpoint is the endpoint asked.
	Endpoint string
	// Healthy reports whether the member answered a read of the key
	// "health" (permission denied counts: the request went through
	// consensus) and the cluster has no alarm raised.
	Healthy bool
	// Took is how long the read took.
	Took time.Duration
	// Err says why the member is not healthy; nil when it is.
	Err error
}

// EndpointHealth checks the member at endpoint the way etcdctl endpoint
// health does: a read of the key "health" on that member (linearizable,
// or serializable when asked, as etcdctl's --consistency=s), then, if it
// answered, the cluster's alarm list from the same member. It never fails
// as a call: what went wrong is in the result's Err.
func (c *Client) EndpointHealth(ctx context.Context, endpoint string, serializable bool) EndpointHealth {
	h := EndpointHealth{Endpoint: endpoint}
	if ctx == nil {
		h.Err = invalidArg("EndpointHealth: nil context")
		return h
	}
	ec, err := c.EndpointClient(endpoint)
	if err != nil {
		h.Err = err
		return h
	}
	defer ec.Close()
	var opts []OpOption
	if serializable {
		opts = append(opts, WithSerializable())
	}
	start := time.Now()
	_, err = ec.Get(ctx, "health", opts...)
	h.Took = time.Since(start)
	if err != nil && !errors.Is(err, rpctypes.ErrPermissionDenied) {
		h.Err = err
		return h
	}
	alarms, err := ec.AlarmList(ctx)
	if err != nil {
		h.Err = fmt.Errorf("etcdclient: unable to fetch the alarm list: %w", err)
		return h
	}
	if len(alarms.Alarms) > 0 {
		names := make([]string, len(alarms.Alarms))
		for i, a := range alarms.Alarms {
			names[i] = alarmName(a.Alarm)
		}
		h.Err = fmt.Errorf("%w(s): %s", ErrAlarmActive, strings.Join(names, " "))
		return h
	}
	h.Healthy = true
	return h
}

// alarmName names an alarm as etcdctl prints it.
func alarmName(a pb.AlarmType) string {
	switch a {
	case pb.AlarmType_NOSPACE, pb.AlarmType_CORRUPT:
		return a.String()
	}
	return "UNKNOWN"
}
