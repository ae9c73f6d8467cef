package client

// Maintenance is a placeholder until the maintenance API is written.
type Maintenance interface{}

type maintenanceImpl struct{ c *Client }

func newMaintenance(c *Client) Maintenance { return &maintenanceImpl{c: c} }
