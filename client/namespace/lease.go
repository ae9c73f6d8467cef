package namespace

import (
	"bytes"
	"context"

	"github.com/etcdscript/etcdscript/client"
)

type leasePrefix struct {
	client.Lease // leases themselves are not namespaced
	pfx          []byte
}

// NewLease returns a Lease whose TimeToLive lists only the attached keys
// under prefix, without the prefix. Everything else passes through: lease
// ids are global to the cluster.
func NewLease(l client.Lease, prefix string) client.Lease {
	return &leasePrefix{Lease: l, pfx: []byte(prefix)}
}

func (l *leasePrefix) TimeToLive(ctx context.Context, id client.LeaseID, opts ...client.LeaseOption) (*client.LeaseTimeToLiveResponse, error) {
	resp, err := l.Lease.TimeToLive(ctx, id, opts...)
	if err != nil || resp == nil || len(resp.Keys) == 0 {
		return resp, err
	}
	out := *resp
	out.Keys = make([][]byte, 0, len(resp.Keys))
	for _, k := range resp.Keys {
		if bytes.HasPrefix(k, l.pfx) {
			out.Keys = append(out.Keys, k[len(l.pfx):])
		}
	}
	return &out, nil
}
