package minirocketmq

import "time"

// Limits on what the network can make the broker hold. Each default is the
// real broker's where it has one.
const (
	// DefaultMaxConnections caps the connections of both listeners
	// together; one more is closed as soon as it is accepted. The real
	// broker has no cap (Netty accepts until the file descriptors run
	// out); a client instance needs two (name server and broker).
	DefaultMaxConnections = 10000
	// DefaultIdleTimeout closes a connection that neither sent nor
	// received anything for this long, heartbeat or not (the real
	// broker's serverChannelMaxIdleTimeSeconds, 120 s). Clients heartbeat
	// every 30 s.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultTLSHandshakeTimeout bounds a TLS handshake (and, in
	// permissive mode, the wait for the first byte), as Netty's
	// SslHandler does (handshakeTimeoutMillis, 10 s).
	DefaultTLSHandshakeTimeout = 10 * time.Second
	// MaxQueueNums is the largest read or write queue count of a topic
	// (and the retry queue count of a group): the most the real broker
	// gives a topic of its own (BenchmarkTest, 1,024). Larger requests
	// are refused.
	MaxQueueNums = 1024
	// MaxQueryMessages caps QUERY_MESSAGE's maxNum, like the real store's
	// maxMsgsNumBatch (64).
	MaxQueryMessages = 64
	// DefaultMaxHeldPulls caps the long-polling pulls one connection may
	// have held at a time; past it a pull that finds nothing is answered
	// PULL_NOT_FOUND at once. A Go consumer holds one per queue it
	// consumes.
	DefaultMaxHeldPulls = 4096
)

// limitsConfig holds the options of this file.
type limitsConfig struct {
	maxConns            int
	idleTimeout         time.Duration
	tlsHandshakeTimeout time.Duration
	maxHeldPulls        int
}

func defaultLimitsConfig() limitsConfig {
	return limitsConfig{
		maxConns:            DefaultMaxConnections,
		idleTimeout:         DefaultIdleTimeout,
		tlsHandshakeTimeout: DefaultTLSHandshakeTimeout,
		maxHeldPulls:        DefaultMaxHeldPulls,
	}
}

// WithMaxConnections caps the open connections of both listeners together
// (default DefaultMaxConnections); a connection past the cap is closed at
// once, with a warning in the log at most once a second.
func WithMaxConnections(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.limits.maxConns = n
		}
	}
}

// WithIdleTimeout sets how long a connection may stay silent in both
// directions before it is closed (default 120 s, like the real broker).
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.limits.idleTimeout = d
		}
	}
}

// WithTLSHandshakeTimeout bounds a client's TLS handshake on a WithTLS
// listener (default 10 s); a client that has not finished by then is
// disconnected.
func WithTLSHandshakeTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.limits.tlsHandshakeTimeout = d
		}
	}
}

// WithMaxHeldPulls caps the long-polling pulls held for one connection at
// a time (default DefaultMaxHeldPulls).
func WithMaxHeldPulls(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.limits.maxHeldPulls = n
		}
	}
}
