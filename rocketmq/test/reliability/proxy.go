package reliability

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// FaultProxy is a loopback TCP proxy that forwards every accepted connection to target
// and can disturb the traffic on command: add delay to every chunk, hold all traffic
// (a network partition: nothing is lost, it flows again on Heal, as TCP retransmits),
// reset every open connection (RST), or refuse connections for a while.
type FaultProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	cond    *sync.Cond // signalled when hold or closed change
	delay   time.Duration
	hold    bool
	refuse  bool
	closed  bool
	conns   map[*proxyConn]struct{}
	accepts int
	resets  int
	wg      sync.WaitGroup
}

type proxyConn struct {
	client, server *net.TCPConn
}

// NewFaultProxy listens on 127.0.0.1:0; Start forwards to target. It closes at cleanup.
func NewFaultProxy(t testing.TB) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{ln: ln, conns: map[*proxyConn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(p.Close)
	return p
}

// Addr is where clients connect.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// Start accepts connections and forwards them to target.
func (p *FaultProxy) Start(target string) {
	p.SetTarget(target)
	p.wg.Add(1)
	go p.acceptLoop()
}

func (p *FaultProxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		client := c.(*net.TCPConn)
		p.mu.Lock()
		if p.closed || p.refuse {
			p.mu.Unlock()
			rst(client)
			continue
		}
		p.accepts++
		p.mu.Unlock()
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		s, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			rst(client)
			continue
		}
		pc := &proxyConn{client: client, server: s.(*net.TCPConn)}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			rst(pc.client)
			rst(pc.server)
			continue
		}
		p.conns[pc] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(pc, pc.client, pc.server)
		go p.pipe(pc, pc.server, pc.client)
	}
}

// pipe copies src to dst chunk by chunk, applying the current faults.
func (p *FaultProxy) pipe(pc *proxyConn, src, dst *net.TCPConn) {
	defer p.wg.Done()
	defer p.drop(pc)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.hold && !p.closed {
				p.cond.Wait()
			}
			d, closed := p.delay, p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = dst.CloseWrite() // pass the half-close on
				return
			}
			return
		}
	}
}

// drop closes both sides of pc (once) and forgets it.
func (p *FaultProxy) drop(pc *proxyConn) {
	p.mu.Lock()
	_, ok := p.conns[pc]
	delete(p.conns, pc)
	p.mu.Unlock()
	if ok {
		_ = pc.client.Close()
		_ = pc.server.Close()
	}
}

// rst closes c with a TCP reset instead of a FIN.
func rst(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// SetTarget makes new connections go to target (a restarted server on new ports).
func (p *FaultProxy) SetTarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// SetDelay delays every chunk in both directions by d from now on (0: none).
func (p *FaultProxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Hold stops all traffic (open and new connections stay open) until Heal.
func (p *FaultProxy) Hold() {
	p.mu.Lock()
	p.hold = true
	p.mu.Unlock()
}

// Refuse resets new connections and every open one until Heal.
func (p *FaultProxy) Refuse() {
	p.mu.Lock()
	p.refuse = true
	p.mu.Unlock()
	p.ResetAll()
}

// Heal ends Hold, Refuse and the delay.
func (p *FaultProxy) Heal() {
	p.mu.Lock()
	p.hold, p.refuse, p.delay = false, false, 0
	p.cond.Broadcast()
	p.mu.Unlock()
}

// ResetAll closes every open connection with a TCP reset on both sides.
func (p *FaultProxy) ResetAll() {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.conns))
	for pc := range p.conns {
		conns = append(conns, pc)
		delete(p.conns, pc)
	}
	p.resets += len(conns)
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, pc := range conns {
		rst(pc.client)
		rst(pc.server)
	}
}

// Stats returns the connections accepted and reset so far, and those open now.
func (p *FaultProxy) Stats() (accepted, reset, open int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts, p.resets, len(p.conns)
}

// Close stops accepting, closes every connection and waits for the proxy's goroutines.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	_ = p.ln.Close()
	p.ResetAll()
	p.wg.Wait()
}
