package minirocketmq

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// Defaults, each the real RocketMQ 4.9 default unless said otherwise.
const (
	// DefaultNameServerAddr is where the name server listens unless
	// WithNameServerAddr says otherwise (loopback, unlike the real one).
	DefaultNameServerAddr = "127.0.0.1:9876"
	// DefaultBrokerAddr is where the broker listens unless WithBrokerAddr
	// says otherwise (loopback, unlike the real one).
	DefaultBrokerAddr = "127.0.0.1:10911"
	// DefaultClusterName is brokerClusterName.
	DefaultClusterName = "DefaultCluster"
	// DefaultBrokerName is the brokerName routes carry.
	DefaultBrokerName = "broker-a"
	// DefaultQueueNums is the queue count of topics created on first send:
	// what a real broker ends up with for the Go client (min of the
	// client's defaultTopicQueueNums 4 and TBW102's 8).
	DefaultQueueNums = 4
	// DefaultMaxMessageSize is maxMessageSize (4 MiB).
	DefaultMaxMessageSize = 4 << 20
	// DefaultChannelExpiry is how long a client connection may stay silent
	// before it is dropped from the group tables and closed
	// (CHANNEL_EXPIRED_TIMEOUT). The clients heartbeat every 30 s.
	DefaultChannelExpiry = 120 * time.Second
	// DefaultMaxPullHold caps how long a long-polling pull is held,
	// whatever the client asks (the Go client asks 20 s and gives up after
	// 30 s).
	DefaultMaxPullHold = 25 * time.Second
)

// Option configures a Broker in New, Run or RunT.
type Option func(*config)

type config struct {
	nameServerAddr  string
	brokerAddr      string
	advertisedAddr  string
	clusterName     string
	brokerName      string
	autoCreateTopic bool
	defaultQueues   int
	maxMessageSize  int
	maxFrameSize    int
	channelExpiry   time.Duration
	maxPullHold     time.Duration
	logger          Logger
	clock           Clock
	store           store.Store
	interceptors    []Interceptor
	v5              v5Config        // options_v5.go
	http            httpConfig      // options_http.go
	sem             semanticsConfig // options_semantics.go
	dur             durableConfig   // options_durable.go
	security        securityConfig  // options_security.go
	limits          limitsConfig    // options_limits.go
	propertyFilter  bool
}

func defaultConfig() config {
	return config{
		nameServerAddr:  DefaultNameServerAddr,
		brokerAddr:      DefaultBrokerAddr,
		clusterName:     DefaultClusterName,
		brokerName:      DefaultBrokerName,
		autoCreateTopic: true,
		defaultQueues:   DefaultQueueNums,
		maxMessageSize:  DefaultMaxMessageSize,
		maxFrameSize:    remoting.DefaultMaxFrameSize,
		channelExpiry:   DefaultChannelExpiry,
		maxPullHold:     DefaultMaxPullHold,
		logger:          nopLogger{},
		clock:           SystemClock(),
		sem:             defaultSemanticsConfig(),
		dur:             defaultDurableConfig(),
		limits:          defaultLimitsConfig(),
		propertyFilter:  true,
	}
}

// WithNameServerAddr sets the name server's listen address ("host:port";
// port 0 picks a free one). This is the address clients are configured with.
func WithNameServerAddr(addr string) Option { return func(c *config) { c.nameServerAddr = addr } }

// WithBrokerAddr sets the broker's listen address ("host:port"; port 0 picks
// a free one).
func WithBrokerAddr(addr string) Option { return func(c *config) { c.brokerAddr = addr } }

// WithAdvertisedAddr sets the broker address put in routes and message ids,
// like the real brokerIP1 + listenPort: use it when clients reach the broker
// through another address (containers, NAT). "host:port"; the host should
// be an IP (a name is resolved once at Start). Default: the listen address,
// with an unspecified host replaced by the first non-loopback IPv4 address.
func WithAdvertisedAddr(addr string) Option { return func(c *config) { c.advertisedAddr = addr } }

// WithClusterName sets brokerClusterName (default "DefaultCluster"); it is
// added to every stored message as the CLUSTER property.
func WithClusterName(name string) Option { return func(c *config) { c.clusterName = name } }

// WithBrokerName sets the brokerName routes carry (default "broker-a").
func WithBrokerName(name string) Option { return func(c *config) { c.brokerName = name } }

// WithAutoCreateTopic turns topic creation on first send on or off (on by
// default, like autoCreateTopicEnable). Off, TBW102 is not served and sends
// to unknown topics fail with TOPIC_NOT_EXIST.
func WithAutoCreateTopic(on bool) Option { return func(c *config) { c.autoCreateTopic = on } }

// WithDefaultQueueNums sets the read and write queue count of topics created
// on first send (default 4, at most MaxQueueNums).
func WithDefaultQueueNums(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.defaultQueues = min(n, MaxQueueNums)
		}
	}
}

// WithMaxMessageSize sets maxMessageSize, the largest message body (or
// batch body) accepted; larger ones are refused with MESSAGE_ILLEGAL.
// Default 4 MiB.
func WithMaxMessageSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxMessageSize = n
		}
	}
}

// WithMaxFrameSize sets the largest remoting frame read; a connection that
// announces a larger one is closed before anything is allocated. Default
// 16 MiB, like the Java server.
func WithMaxFrameSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxFrameSize = n
		}
	}
}

// WithChannelExpiry sets how long a silent client connection is kept
// (default 120 s).
func WithChannelExpiry(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.channelExpiry = d
		}
	}
}

// WithMaxPullHold caps the long-polling hold of a pull request (default
// 25 s; the client asks for 20 s).
func WithMaxPullHold(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxPullHold = d
		}
	}
}

// WithPropertyFilter turns SQL92 subscriptions (enablePropertyFilter) on or
// off. On by default here; off, they are refused with the real broker's
// SYSTEM_ERROR "The broker does not support consumer to filter message by
// SQL92", as a real broker with its default configuration does.
func WithPropertyFilter(on bool) Option { return func(c *config) { c.propertyFilter = on } }

// WithLogger sets the logger (default: discard).
func WithLogger(l Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithClock sets the clock of message time (default SystemClock). Pass a
// ManualClock to drive time-based behaviour from a test.
func WithClock(clk Clock) Option {
	return func(c *config) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// WithStore sets the message store (default: a fresh store.NewMemory using
// the broker's clock). The broker closes it on Close.
func WithStore(s store.Store) Option { return func(c *config) { c.store = s } }

// WithInterceptor adds an interceptor run before every request's handler,
// in the order added. See Interceptor.
func WithInterceptor(i Interceptor) Option {
	return func(c *config) {
		if i != nil {
			c.interceptors = append(c.interceptors, i)
		}
	}
}
