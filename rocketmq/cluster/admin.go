package cluster

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/health"
)

// ProbeTimeout bounds one readiness probe of HealthCheck.
const ProbeTimeout = 2 * time.Second

// LagTimeout bounds the reading of the consumer lag at one metrics collection.
const LagTimeout = 5 * time.Second

// MetricConsumerLag is the gauge RegisterLagMetrics adds: messages stored but not yet
// consumed, per topic, group, broker and queue.
const MetricConsumerLag = "rocketmq.consumer.lag"

// EnsureTopics creates the topics (names as the client uses them: the namespace is
// added) that have no route yet, on every master broker, and waits for their routes.
// Push consumers refuse a topic without a route, and a transactional producer needs one
// to be asked about earlier half messages. For driver "aliyun" on an endpoint without
// name servers (an Aliyun instance, whose topics are created in its console) it does
// nothing. For driver "v5" the topics it creates have message.type MIXED, so a 5.x
// proxy accepts every kind of message on them (normal, FIFO, delayed, transactional);
// topics that exist keep their type. The calls go to the name servers and brokers over
// the remoting protocol, which is where a RocketMQ cluster, 5.x included, serves them.
func (c *Client) EnsureTopics(ctx context.Context, topics ...string) error {
	if c.httpOnly() {
		return nil // an Aliyun instance's topics are created in its console
	}
	q := make([]string, 0, len(topics))
	seen := map[string]bool{}
	for _, t := range topics {
		if t = c.Settings.Qualified(t); t != "" && !seen[t] {
			seen[t] = true
			q = append(q, t)
		}
	}
	if len(q) == 0 {
		return nil
	}
	ns, opts, err := c.adminTarget(ctx)
	if err == nil {
		if c.Settings.Driver == DriverV5 {
			opts = append(opts, admin.WithMessageType("MIXED"))
		}
		err = admin.EnsureTopics(ctx, ns, q, opts...)
	}
	if err != nil {
		return fmt.Errorf("ensure topics %v: %w", q, err)
	}
	return nil
}

// Probe asks the name servers about their brokers and the routes of topics (namespace
// added) and dials every broker address they hand out (see admin.Probe), over TLS and
// with the credentials of the settings. A name server domain that does not answer is
// reported as the one name server, with its error.
func (c *Client) Probe(ctx context.Context, topics ...string) admin.Report {
	q := make([]string, len(topics))
	for i, t := range topics {
		q[i] = c.Settings.Qualified(t)
	}
	ns, opts, err := c.adminTarget(ctx)
	if err != nil {
		addr := c.Settings.NameServerDomain
		if addr == "" {
			addr = strings.Join(c.Settings.NameServers, ";")
		}
		return admin.Report{NameServers: []admin.NameServerReport{{Addr: addr, Err: err}}}
	}
	return admin.Probe(ctx, ns, q, opts...)
}

// HealthCheck returns the readiness check "rocketmq": it passes when a name server
// answers and every broker address it hands out accepts connections, within
// ProbeTimeout; for driver "aliyun" without name servers, when the HTTP endpoint
// accepts connections.
func (c *Client) HealthCheck() health.Checker {
	return health.CheckFunc("rocketmq", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
		defer cancel()
		if c.httpOnly() {
			return c.dialEndpoint(ctx)
		}
		return c.Probe(ctx).Err()
	})
}

// ConsumerLag reads the broker and committed consumer offsets of every queue of every
// clustering subscription (broadcast consumers keep their offsets locally, so the
// broker knows no lag for them). Topics and groups are reported as the broker knows
// them (with the namespace).
func (c *Client) ConsumerLag(ctx context.Context, subs ...Subscription) ([]admin.QueueLag, error) {
	if c.httpOnly() {
		return nil, nil // no offsets to read over the HTTP API
	}
	var q []admin.Subscription
	for _, s := range subs {
		if !s.Broadcast {
			q = append(q, admin.Subscription{Topic: c.Settings.Qualified(s.Topic), Group: c.Settings.Qualified(s.Group)})
		}
	}
	if len(q) == 0 {
		return nil, nil
	}
	ns, opts, err := c.adminTarget(ctx)
	if err != nil {
		return nil, err
	}
	return admin.ConsumerLag(ctx, ns, q, opts...)
}

// RegisterLagMetrics adds the MetricConsumerLag gauge of subs to the meter provider of
// WithTelemetry; every collection (a /metrics scrape) asks the brokers. Driver "aliyun"
// without name servers has no gauge (the HTTP API reads no offsets).
func (c *Client) RegisterLagMetrics(subs ...Subscription) error {
	if c.httpOnly() {
		return nil
	}
	if c.meter == nil {
		return fmt.Errorf("consumer lag gauge: no meter provider (cluster.WithTelemetry)")
	}
	meter := c.meter.Meter("github.com/kratos-rocketmq/rocketmq/cluster")
	gauge, err := meter.Int64ObservableGauge(MetricConsumerLag,
		metric.WithDescription("Messages stored in a queue that the consumer group has not consumed yet."),
		metric.WithUnit("{message}"))
	if err != nil {
		return fmt.Errorf("consumer lag gauge: %w", err)
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, LagTimeout)
		defer cancel()
		lags, err := c.ConsumerLag(ctx, subs...)
		for _, l := range lags {
			o.ObserveInt64(gauge, l.Lag(), metric.WithAttributes(
				attribute.String("topic", l.Topic), attribute.String("group", l.Group),
				attribute.String("broker", l.Broker), attribute.Int("queue", l.QueueID)))
		}
		return err
	}, gauge)
	if err != nil {
		return fmt.Errorf("consumer lag gauge: %w", err)
	}
	return nil
}

// httpOnly reports whether the client reaches RocketMQ over driver "aliyun" alone: no
// name server for the admin calls (an Aliyun instance).
func (c *Client) httpOnly() bool {
	s := c.Settings
	return s.Driver == DriverAliyun && len(s.NameServers) == 0 && s.NameServerDomain == ""
}

// dialEndpoint checks that the HTTP endpoint accepts connections.
func (c *Client) dialEndpoint(ctx context.Context) error {
	u, err := url.Parse(c.Settings.Endpoint)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", c.Settings.Endpoint, err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("HTTP endpoint %s: %w", c.Settings.Endpoint, err)
	}
	return conn.Close()
}
