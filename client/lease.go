package client

// Lease is a placeholder until the lease API is written.
type Lease interface{}

type leaseImpl struct{ c *Client }

func newLease(c *Client) Lease { return &leaseImpl{c: c} }
