package minirocketmq

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
)

// serverConn wraps a freshly accepted connection for WithTLS: a TLS server
// connection, or, in permissive mode, a connection that decides on its
// first byte. The handshake runs on the connection's reading goroutine,
// within its first read; a failed one ends the connection like any read
// error.
func (b *Broker) serverConn(nc net.Conn) net.Conn {
	cfg := b.cfg.security.tls
	if cfg == nil {
		return nc
	}
	if b.cfg.security.tlsMode == TLSPermissive {
		return &sniffConn{Conn: nc, cfg: cfg}
	}
	return tls.Server(nc, cfg)
}

// tlsRecordHandshake is the first byte of a TLS client hello.
const tlsRecordHandshake = 0x16

// sniffConn serves TLS or plain text depending on the first byte the
// client sends. The first Read decides (the broker never writes first; a
// Write before any Read waits for the decision, which Close releases).
type sniffConn struct {
	net.Conn
	cfg   *tls.Config
	once  sync.Once
	inner net.Conn // set by decide
}

func (s *sniffConn) decide() {
	s.once.Do(func() {
		br := bufio.NewReader(s.Conn)
		peeked := &peekedConn{Conn: s.Conn, r: br}
		if first, err := br.Peek(1); err == nil && first[0] == tlsRecordHandshake {
			s.inner = tls.Server(peeked, s.cfg)
		} else {
			s.inner = peeked
		}
	})
}

func (s *sniffConn) Read(p []byte) (int, error) {
	s.decide()
	return s.inner.Read(p)
}

func (s *sniffConn) Write(p []byte) (int, error) {
	s.decide()
	return s.inner.Write(p)
}

// peekedConn reads through the buffer that holds the peeked byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }
