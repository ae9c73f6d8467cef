package client

// Watcher is a placeholder until the watch API is written.
type Watcher interface{}

type watcherImpl struct{ c *Client }

func newWatcher(c *Client) Watcher { return &watcherImpl{c: c} }
