package minirocketmq

import "time"

// Defaults of the gRPC endpoint, each the 5.x proxy's (ProxyConfig) unless
// said otherwise.
const (
	// DefaultGRPCAddr is the address cmd/minirocketmq serves gRPC on (the
	// proxy's grpcServerPort 8081, on loopback). The library serves no gRPC
	// unless WithGRPCAddr is given.
	DefaultGRPCAddr = "127.0.0.1:8081"
	// DefaultGRPCMinLongPolling and DefaultGRPCMaxLongPolling bound how long
	// a ReceiveMessage waits for messages (grpcClientConsumer{Min,Max}
	// LongPollingTimeoutMillis).
	DefaultGRPCMinLongPolling = 5 * time.Second
	DefaultGRPCMaxLongPolling = 20 * time.Second
	// DefaultGRPCMinInvisible is the shortest invisible duration a
	// ReceiveMessage may ask for (minInvisibleTimeMillsForRecv);
	// DefaultGRPCMaxInvisible the longest any request may
	// (maxInvisibleTimeMills).
	DefaultGRPCMinInvisible = 10 * time.Second
	DefaultGRPCMaxInvisible = 12 * time.Hour
	// DefaultGRPCAutoRenewInvisible is the invisible duration of messages
	// received with auto_renew (defaultInvisibleTimeMills), renewed while
	// their client lives.
	DefaultGRPCAutoRenewInvisible = 60 * time.Second
	// DefaultGRPCMaxDelay is the furthest in the future a message's delivery
	// timestamp may be (maxDelayTimeMills).
	DefaultGRPCMaxDelay = 24 * time.Hour
)

// v5Config holds the gRPC endpoint's options; the zero value is the
// default (off).
type v5Config struct {
	addr           string
	advertised     string
	noTypeCheck    bool
	minLongPolling time.Duration
	maxLongPolling time.Duration
	minInvisible   time.Duration
}

func (c *v5Config) longPolling() (lo, hi time.Duration) {
	lo, hi = c.minLongPolling, c.maxLongPolling
	if lo <= 0 {
		lo = DefaultGRPCMinLongPolling
	}
	if hi <= 0 {
		hi = DefaultGRPCMaxLongPolling
	}
	return lo, max(lo, hi)
}

func (c *v5Config) minReceiveInvisible() time.Duration {
	if c.minInvisible > 0 {
		return c.minInvisible
	}
	return DefaultGRPCMinInvisible
}

// WithGRPCAddr makes the broker serve the RocketMQ 5 gRPC messaging service
// (the 5.x proxy's API, package protocol/v2) on addr ("host:port"; port 0
// picks a free one), over the same topics, groups and messages as the
// remoting listeners. Off by default. See GRPCAddr and README.md.
func WithGRPCAddr(addr string) Option { return func(c *config) { c.v5.addr = addr } }

// WithGRPCAdvertisedAddr sets the address the gRPC endpoint puts in routes
// when a client's request names none ("host:port"; default: the bound
// address, an unspecified host replaced as for WithAdvertisedAddr).
// Clients are normally routed to the address they connected to.
func WithGRPCAdvertisedAddr(addr string) Option { return func(c *config) { c.v5.advertised = addr } }

// WithGRPCMessageTypeCheck turns the check of a gRPC send's message type
// against its topic's message type (topic attribute message.type, NORMAL
// when unset) on or off. On by default, like the proxy's
// enableTopicMessageTypeCheck; the setting is also pushed to clients
// (Publishing.validate_message_type).
func WithGRPCMessageTypeCheck(on bool) Option { return func(c *config) { c.v5.noTypeCheck = !on } }

// WithGRPCLongPolling sets the bounds of a ReceiveMessage's long polling
// (default 5 s and 20 s). Tests use shorter ones.
func WithGRPCLongPolling(minWait, maxWait time.Duration) Option {
	return func(c *config) {
		c.v5.minLongPolling, c.v5.maxLongPolling = minWait, maxWait
	}
}

// WithGRPCMinInvisibleDuration sets the shortest invisible duration a
// ReceiveMessage may ask for (default 10 s, below which the proxy answers
// ILLEGAL_INVISIBLE_TIME).
func WithGRPCMinInvisibleDuration(d time.Duration) Option {
	return func(c *config) { c.v5.minInvisible = d }
}
