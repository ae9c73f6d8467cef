package client

// Cluster is a placeholder until the cluster API is written.
type Cluster interface{}

type clusterImpl struct{ c *Client }

func newCluster(c *Client) Cluster { return &clusterImpl{c: c} }
