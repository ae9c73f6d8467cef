package etcdtest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxProxyConns bounds the connections one proxy serves at a time; further
// connections are accepted and closed at once.
const maxProxyConns = 512

// proxyBufSize is the size of the copy buffer of each direction of a
// connection.
const proxyBufSize = 32 << 10

var errConnCut = errors.New("etcdtest: proxy connection cut")

// Proxy is a TCP proxy on 127.0.0.1 that forwards every connection it accepts
// to one target address. Tests use it to simulate network trouble between
// clients and a member: Blackhole, Pause and DropConnections act on every
// connection the proxy carries. The proxy keeps its address for its whole
// life, also while the member behind it is stopped; connections made then are
// closed once the dial to the member fails.
//
// A Proxy is safe for concurrent use. Close stops all of its goroutines.
type Proxy struct {
	ln     net.Listener
	target string
	// httpMode makes the proxy parse the HTTP/1.1 requests flowing from the
	// client to the target, to learn which etcd member sent them (the
	// X-Server-From header of rafthttp). Peer proxies use it for Isolate.
	httpMode bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	conns     map[*proxyConn]struct{}
	blackhole bool
	paused    bool
	resume    chan struct{} // closed by Unpause; valid while paused
	refuse    bool          // cut every connection (the member is isolated)
	deny      map[uint64]bool
	closed    bool
}

type proxyConn struct {
	p       *Proxy
	down    net.Conn // the accepted connection
	mu      sync.Mutex
	up      net.Conn // the connection to the target, once dialed
	dead    chan struct{}
	once    sync.Once
	tainted atomic.Bool   // bytes were dropped by Blackhole
	owner   atomic.Uint64 // member id of the sender (httpMode)
}

// NewProxy starts a proxy that listens on a free port of 127.0.0.1 and
// forwards connections to target (host:port).
func NewProxy(target string) (*Proxy, error) {
	return newProxy(target, false)
}

func newProxy(target string, httpMode bool) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln:       ln,
		target:   target,
		httpMode: httpMode,
		ctx:      ctx,
		cancel:   cancel,
		conns:    map[*proxyConn]struct{}{},
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the host:port the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the host:port the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Blackhole makes the proxy drop all bytes in both directions. Connections
// stay open and new ones are accepted, as when packets are lost on the way,
// so calls through the proxy hang until their deadline.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	p.blackhole = true
	p.mu.Unlock()
}

// Unblackhole makes the proxy forward bytes again. Connections that lost
// bytes while blackholed are closed, since their streams are corrupt; clients
// reconnect.
func (p *Proxy) Unblackhole() {
	p.mu.Lock()
	p.blackhole = false
	var cut []*proxyConn
	for c := range p.conns {
		if c.tainted.Load() {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cut {
		c.close()
	}
}

// Pause stops forwarding bytes without dropping them: they wait in buffers
// until Unpause, as with a hung member. New connections are accepted.
func (p *Proxy) Pause() {
	p.mu.Lock()
	if !p.paused {
		p.paused = true
		p.resume = make(chan struct{})
	}
	p.mu.Unlock()
}

// Unpause resumes forwarding after Pause.
func (p *Proxy) Unpause() {
	p.mu.Lock()
	if p.paused {
		p.paused = false
		close(p.resume)
	}
	p.mu.Unlock()
}

// DropConnections closes every connection the proxy carries now, on both
// sides. New connections are accepted as usual.
func (p *Proxy) DropConnections() {
	p.cutIf(func(*proxyConn) bool { return true })
}

// Close stops the proxy: it closes the listener and every connection and
// waits for all of its goroutines to end. Close is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	p.DropConnections()
	p.wg.Wait()
	return err
}

// setRefuse makes the proxy close all of its connections, now and as they
// come, or stop doing so.
func (p *Proxy) setRefuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
	if on {
		p.DropConnections()
	}
}

// setDeny makes the proxy cut connections whose requests come from one of
// the given member ids. Connections whose sender is not known yet are cut
// too, so that they identify themselves again on a new connection.
func (p *Proxy) setDeny(ids map[uint64]bool) {
	p.mu.Lock()
	p.deny = ids
	p.mu.Unlock()
	if len(ids) > 0 {
		p.cutIf(func(c *proxyConn) bool {
			o := c.owner.Load()
			return o == 0 || ids[o]
		})
	}
}

func (p *Proxy) cutIf(match func(*proxyConn) bool) {
	p.mu.Lock()
	var cut []*proxyConn
	for c := range p.conns {
		if match(c) {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cut {
		c.close()
	}
}

func (p *Proxy) denied(c *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse {
		return true
	}
	o := c.owner.Load()
	return o != 0 && p.deny[o]
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: back off a little.
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		c := &proxyConn{p: p, down: conn, dead: make(chan struct{})}
		p.mu.Lock()
		if p.closed || p.refuse || len(p.conns) >= maxProxyConns {
			p.mu.Unlock()
			conn.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go c.serve()
	}
}

// wait blocks while the proxy is paused. It fails when the connection or the
// proxy is closed meanwhile.
func (c *proxyConn) wait() error {
	for {
		c.p.mu.Lock()
		paused, resume := c.p.paused, c.p.resume
		c.p.mu.Unlock()
		if !paused {
			select {
			case <-c.dead:
				return errConnCut
			default:
				return nil
			}
		}
		select {
		case <-resume:
		case <-c.dead:
			return errConnCut
		case <-c.p.ctx.Done():
			return errConnCut
		}
	}
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		close(c.dead)
		c.down.Close()
		c.mu.Lock()
		if c.up != nil {
			c.up.Close()
		}
		c.mu.Unlock()
	})
}

func (c *proxyConn) serve() {
	p := c.p
	defer func() {
		c.close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		p.wg.Done()
	}()
	d := net.Dialer{Timeout: 2 * time.Second}
	up, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.up = up
	c.mu.Unlock()
	select {
	case <-c.dead: // cut while dialing
		up.Close()
		return
	default:
	}

	var inner sync.WaitGroup
	inner.Add(1)
	go func() {
		defer inner.Done()
		c.finish(up, c.pipe(up, c.down))
	}()
	c.finish(c.down, c.pipeBack(c.down, up))
	inner.Wait()
}

// finish ends one direction: a clean end of the source is passed on as a
// half close, anything else closes the whole connection.
func (c *proxyConn) finish(dst net.Conn, err error) {
	if err == nil {
		if tc, ok := dst.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
			return
		}
	}
	c.close()
}

// pipe carries bytes from the client to the target.
func (c *proxyConn) pipe(dst, src net.Conn) error {
	if !c.p.httpMode {
		return c.copy(dst, src)
	}
	br := bufio.NewReaderSize(gatedReader{c, src}, proxyBufSize)
	w := gatedWriter{c, dst}
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if id, ok := parseMemberID(req.Header.Get("X-Server-From")); ok {
			c.owner.CompareAndSwap(0, id)
		}
		if c.p.denied(c) {
			req.Body.Close()
			return errConnCut
		}
		err = req.Write(w)
		req.Body.Close()
		if err != nil {
			return err
		}
	}
}

// pipeBack carries bytes from the target to the client.
func (c *proxyConn) pipeBack(dst, src net.Conn) error { return c.copy(dst, src) }

func (c *proxyConn) copy(dst, src net.Conn) error {
	buf := make([]byte, proxyBufSize)
	r, w := gatedReader{c, src}, gatedWriter{c, dst}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// gatedReader reads only while the proxy is not paused.
type gatedReader struct {
	c *proxyConn
	r io.Reader
}

func (g gatedReader) Read(b []byte) (int, error) {
	if err := g.c.wait(); err != nil {
		return 0, err
	}
	return g.r.Read(b)
}

// gatedWriter writes only while the proxy is not paused, and drops the bytes
// while it is blackholed.
type gatedWriter struct {
	c *proxyConn
	w io.Writer
}

func (g gatedWriter) Write(b []byte) (int, error) {
	if err := g.c.wait(); err != nil {
		return 0, err
	}
	g.c.p.mu.Lock()
	bh := g.c.p.blackhole
	g.c.p.mu.Unlock()
	if bh {
		g.c.tainted.Store(true)
		return len(b), nil
	}
	return g.w.Write(b)
}

// parseMemberID parses a member id as rafthttp writes it (hexadecimal).
func parseMemberID(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 16, 64)
	return id, err == nil && id != 0
}
