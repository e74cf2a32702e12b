package load

import (
	"io"
	"net"
	"net/netip"
	"sync"
)

// dropProxy is a TCP relay on 127.0.0.1 between the clients and the
// target, used when a scenario drops connections (faults drop, reconnect
// step). The client library offers no way to break a live transport from
// outside (protocol/client has no dial hook for WebSocket), so each
// client binds a source address of its own (127.1.x.y, see clientAddr)
// and the relay closes every connection from that address abruptly: the
// client sees a reset, like a network failure, and reconnects.
type dropProxy struct {
	ln     net.Listener
	target string // host:port

	mu    sync.Mutex
	conns map[netip.Addr]map[*relay]struct{}
	wg    sync.WaitGroup
}

type relay struct{ a, b net.Conn }

func (r *relay) abort() {
	for _, c := range []net.Conn{r.a, r.b} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN: an abrupt drop
		}
		c.Close()
	}
}

func newDropProxy(target string) (*dropProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &dropProxy{ln: ln, target: target, conns: map[netip.Addr]map[*relay]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// clientAddr is client id's own source address: 127.1.0.0 + id, so up to
// ~16 million clients before wrapping into 127.x with x > 255 (never
// reached by a bounded run).
func clientAddr(id int) netip.Addr {
	n := uint32(127)<<24 | 1<<16 + uint32(id)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func (p *dropProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

func (p *dropProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	src := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	r := &relay{a: c, b: up}
	p.mu.Lock()
	set := p.conns[src]
	if set == nil {
		set = map[*relay]struct{}{}
		p.conns[src] = set
	}
	set[r] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Half-close so a normal close is relayed as a close.
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	wg.Go(func() { pipe(up, c) })
	wg.Go(func() { pipe(c, up) })
	wg.Wait()
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(set, r)
	if len(set) == 0 {
		delete(p.conns, src)
	}
	p.mu.Unlock()
}

// drop aborts every connection of client id; it reports whether there
// was any.
func (p *dropProxy) drop(id int) bool {
	a := clientAddr(id)
	p.mu.Lock()
	rs := make([]*relay, 0, len(p.conns[a]))
	for r := range p.conns[a] {
		rs = append(rs, r)
	}
	p.mu.Unlock()
	for _, r := range rs {
		r.abort()
	}
	return len(rs) > 0
}

// close stops accepting and aborts every relay.
func (p *dropProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	var rs []*relay
	for _, set := range p.conns {
		for r := range set {
			rs = append(rs, r)
		}
	}
	p.mu.Unlock()
	for _, r := range rs {
		r.abort()
	}
	p.wg.Wait()
}
