package client

// Auth is a placeholder until the auth API is written.
type Auth interface{}

type authImpl struct{ c *Client }

func newAuth(c *Client) Auth { return &authImpl{c: c} }
