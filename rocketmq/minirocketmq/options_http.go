package minirocketmq

import "time"

// Defaults of the Aliyun MQ HTTP endpoint, each what Aliyun's service does
// (as its SDK and documentation say) unless said otherwise.
const (
	// DefaultHTTPAddr is the address cmd/minirocketmq serves the HTTP API
	// on (loopback; Aliyun's endpoints are port 80 of an instance's
	// domain). The library serves no HTTP unless WithHTTPAddr is given.
	DefaultHTTPAddr = "127.0.0.1:8082"
	// DefaultHTTPInvisibleDuration is how long a consumed message stays
	// invisible to its group before it is delivered again unless acked
	// (Aliyun: the HTTP retry interval, 5 minutes, which clients cannot
	// change).
	DefaultHTTPInvisibleDuration = 5 * time.Minute
	// DefaultHTTPMaxWait is the longest long poll (waitseconds 1..30).
	DefaultHTTPMaxWait = 30 * time.Second
	// DefaultHTTPMaxClockSkew is how far a request's Date may be from the
	// server's time before it is refused with TimeExpired (MNS's 15
	// minutes).
	DefaultHTTPMaxClockSkew = 15 * time.Minute
)

// httpConfig holds the HTTP endpoint's options; the zero value is the
// default (off).
type httpConfig struct {
	addr      string
	invisible time.Duration
	maxWait   time.Duration
}

func (c *httpConfig) invisibleDuration() time.Duration {
	if c.invisible > 0 {
		return c.invisible
	}
	return DefaultHTTPInvisibleDuration
}

func (c *httpConfig) longPollCap() time.Duration {
	if c.maxWait > 0 {
		return min(c.maxWait, DefaultHTTPMaxWait)
	}
	return DefaultHTTPMaxWait
}

// WithHTTPAddr makes the broker serve the HTTP API of Aliyun's Message
// Queue for Apache RocketMQ (what aliyunmq/mq-http-go-sdk and the driver
// DriverTypeAliyun speak) on addr ("host:port"; port 0 picks a free one),
// over the same topics, groups and messages as the remoting listeners and
// through the pop engine. Off by default. See HTTPAddr and README.md.
func WithHTTPAddr(addr string) Option { return func(c *config) { c.http.addr = addr } }

// WithHTTPInvisibleDuration sets how long a message consumed over HTTP
// stays invisible before it is delivered again unless acknowledged
// (default 5 minutes, Aliyun's fixed HTTP retry interval). Tests use a few
// seconds.
func WithHTTPInvisibleDuration(d time.Duration) Option {
	return func(c *config) { c.http.invisible = d }
}

// WithHTTPMaxWait caps a consume's long poll below the API's 30 seconds
// (waitseconds larger than the cap wait the cap).
func WithHTTPMaxWait(d time.Duration) Option { return func(c *config) { c.http.maxWait = d } }
