package minirocketmq

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// serverConn wraps a freshly accepted connection for WithTLS: a TLS server
// connection, or, in permissive mode, a connection that decides on its
// first byte. handshake then completes the handshake (or the decision)
// before any request is read.
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
	err   error    // why the first byte could not be read, set by decide
}

func (s *sniffConn) peekErr() error { return s.err }

func (s *sniffConn) decide() {
	s.once.Do(func() {
		br := bufio.NewReader(s.Conn)
		peeked := &peekedConn{Conn: s.Conn, r: br}
		first, err := br.Peek(1)
		s.err = err
		if err == nil && first[0] == tlsRecordHandshake {
			s.inner = tls.Server(peeked, s.cfg)
		} else {
			s.inner = peeked
		}
	})
}

// handshake runs the TLS handshake of a WithTLS connection (in permissive
// mode, first the wait for the byte that decides) on the accepting
// goroutine, within WithTLSHandshakeTimeout, so a client that connects
// and stays silent or stalls its handshake holds nothing for long. Plain
// connections return at once; Close of the broker cuts a handshake short.
func (b *Broker) handshake(nc net.Conn) error {
	timeout := b.cfg.limits.tlsHandshakeTimeout
	var raw net.Conn
	switch c := nc.(type) {
	case *tls.Conn:
		raw = c.NetConn()
	case *sniffConn:
		raw = c.Conn
	default:
		return nil
	}
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	go func() {
		select {
		case <-b.done:
			cancel()
			_ = raw.SetDeadline(time.Now())
		case <-ctx.Done():
		}
	}()
	if err := raw.SetDeadline(deadline); err != nil {
		return err
	}
	tc, ok := nc.(*tls.Conn)
	if s, isSniff := nc.(*sniffConn); isSniff {
		s.decide()
		if s.peekErr() != nil {
			return s.peekErr()
		}
		tc, ok = s.inner.(*tls.Conn)
	}
	if ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
	}
	return raw.SetDeadline(time.Time{})
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
