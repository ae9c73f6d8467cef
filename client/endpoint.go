package client

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// endpoint is one parsed entry of Config.Endpoints.
type endpoint struct {
	raw     string // as the user wrote it
	network string // "tcp" or "unix"
	addr    string // host:port, or a socket path
	host    string // the name checked against a server certificate
	// secure is true for https:// and unixs://, false for http:// and
	// unix://, and follows Config.TLS for a bare host:port.
	secure bool
}

// parseEndpoint accepts host:port, http://host:port, https://host:port,
// unix://path (or unix:path) and unixs://path.
func parseEndpoint(raw string, haveTLS bool) (endpoint, error) {
	ep := endpoint{raw: raw, network: "tcp", secure: haveTLS}
	s := strings.TrimSpace(raw)
	if s == "" {
		return ep, invalidArg("endpoint %q is empty", raw)
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok || strings.HasPrefix(s, "unix:") || strings.HasPrefix(s, "unixs:") {
		if !ok {
			scheme, rest, _ = strings.Cut(s, ":")
		}
		switch strings.ToLower(scheme) {
		case "http":
			ep.secure = false
		case "https":
			ep.secure = true
		case "unix", "unixs":
			ep.network = "unix"
			ep.secure = strings.EqualFold(scheme, "unixs")
			if rest == "" {
				return ep, invalidArg("endpoint %q: no socket path", raw)
			}
			ep.addr = rest
			ep.host = "localhost"
			return ep, nil
		default:
			return ep, invalidArg("endpoint %q: unknown scheme %q (want http, https, unix or unixs)", raw, scheme)
		}
		u, err := url.Parse(s)
		if err != nil {
			return ep, invalidArg("endpoint %q is not a URL: %v", raw, err)
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return ep, invalidArg("endpoint %q: only scheme://host:port is allowed", raw)
		}
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return ep, invalidArg("endpoint %q: want host:port: %v", raw, err)
	}
	if port == "" {
		return ep, invalidArg("endpoint %q: no port", raw)
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return ep, invalidArg("endpoint %q: port %q is not a number", raw, port)
		}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ep.host = host
	ep.addr = net.JoinHostPort(host, port)
	return ep, nil
}

func parseEndpoints(raw []string, haveTLS bool) ([]endpoint, error) {
	if len(raw) == 0 {
		return nil, ErrNoAvailableEndpoints
	}
	eps := make([]endpoint, 0, len(raw))
	for _, r := range raw {
		ep, err := parseEndpoint(r, haveTLS)
		if err != nil {
			return nil, err
		}
		eps = append(eps, ep)
	}
	return eps, nil
}

// dialAddr is the address handed to gRPC, decoded again by the dialer.
func (ep endpoint) dialAddr() string {
	if ep.network == "unix" {
		return "unix:" + ep.addr
	}
	return ep.addr
}

func (ep endpoint) String() string { return fmt.Sprintf("%s", ep.raw) }
