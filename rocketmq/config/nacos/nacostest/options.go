package nacostest

import "time"

// Option configures a Server.
type Option func(*config)

type config struct {
	httpAddr, grpcAddr string
	username, password string
	tokenTTL           time.Duration
	pushAttempts       int
	ackTimeout         time.Duration
	pushRetryDelay     time.Duration
	logf               func(format string, args ...any)
}

func defaultConfig() config {
	return config{
		httpAddr: "127.0.0.1:0",
		tokenTTL: 5 * time.Hour,
		// The real server's defaults: 50 attempts, 3s for the client's ack, then wait
		// attempt*2s (RpcConfigChangeNotifier).
		pushAttempts:   50,
		ackTimeout:     3 * time.Second,
		pushRetryDelay: 2 * time.Second,
	}
}

// WithAddr sets the HTTP listen address (login and the v1 open API); default "127.0.0.1:0".
func WithAddr(addr string) Option { return func(c *config) { c.httpAddr = addr } }

// WithGrpcAddr sets the gRPC listen address. By default the server takes the HTTP port +
// 1000 when it is free (what clients assume without an explicit gRPC port), else any free port.
func WithGrpcAddr(addr string) Option { return func(c *config) { c.grpcAddr = addr } }

// WithAuth turns authentication on: clients log in over HTTP with this username and
// password and must send the access token they got with every config request.
func WithAuth(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}

// WithTokenTTL sets how long an access token stays valid (default 5h, the server's 18000s).
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithPushRetry sets how change notifications are retried: up to attempts sends per
// client, each waiting ackTimeout for the client's answer, the n-th retry after n*delay.
// A client that never answers is disconnected after the last attempt, as the real server
// does. Defaults: 50, 3s, 2s.
func WithPushRetry(attempts int, ackTimeout, delay time.Duration) Option {
	return func(c *config) { c.pushAttempts, c.ackTimeout, c.pushRetryDelay = attempts, ackTimeout, delay }
}

// WithLogf sends the server's log lines (connections, pushes, protocol errors) to logf;
// the default is silence. RunT uses t.Logf.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) { c.logf = logf }
}
