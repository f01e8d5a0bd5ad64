package cluster

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/health"
)

// ProbeTimeout bounds one readiness probe of HealthCheck.
const ProbeTimeout = 2 * time.Second

// MetricConsumerLag is the gauge RegisterLagMetrics adds: messages stored but not yet
// consumed, per topic, group, broker and queue.
const MetricConsumerLag = "rocketmq.consumer.lag"

// EnsureTopics creates the topics (names as the client uses them: the namespace is
// added) that have no route yet, on every master broker, and waits for their routes.
// Push consumers refuse a topic without a route, and a transactional producer needs one
// to be asked about earlier half messages. With DriverV5 the topics it creates have
// message.type MIXED, so a 5.x proxy accepts every kind of message on them (normal,
// FIFO, delayed, transactional); topics that exist keep their type. The calls go to the
// name servers and brokers over the remoting protocol, with either driver: that is
// where a RocketMQ cluster, 5.x included, serves its admin requests.
func (c *Client) EnsureTopics(ctx context.Context, topics ...string) error {
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
	var opts []admin.TopicOption
	if c.Settings.UsesV5() {
		opts = append(opts, admin.WithMessageType("MIXED"))
	}
	if err := admin.EnsureTopics(ctx, c.NameServers(), q, opts...); err != nil {
		return fmt.Errorf("ensure topics %v: %w", q, err)
	}
	return nil
}

// Probe asks the name servers about their brokers and the routes of topics (namespace
// added) and dials every broker address they hand out (see admin.Probe).
func (c *Client) Probe(ctx context.Context, topics ...string) admin.Report {
	q := make([]string, len(topics))
	for i, t := range topics {
		q[i] = c.Settings.Qualified(t)
	}
	return admin.Probe(ctx, c.NameServers(), q)
}

// HealthCheck returns the readiness check "rocketmq": it passes when a name server
// answers and every broker address it hands out accepts connections, within
// ProbeTimeout.
func (c *Client) HealthCheck() health.Checker {
	return health.CheckFunc("rocketmq", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
		defer cancel()
		return c.Probe(ctx).Err()
	})
}

// ConsumerLag reads the broker and committed consumer offsets of every queue of every
// clustering subscription (broadcast consumers keep their offsets locally, so the
// broker knows no lag for them). Topics and groups are reported as the broker knows
// them (with the namespace).
func (c *Client) ConsumerLag(ctx context.Context, subs ...Subscription) ([]admin.QueueLag, error) {
	var q []admin.Subscription
	for _, s := range subs {
		if !s.Broadcast {
			q = append(q, admin.Subscription{Topic: c.Settings.Qualified(s.Topic), Group: c.Settings.Qualified(s.Group)})
		}
	}
	return admin.ConsumerLag(ctx, c.NameServers(), q)
}

// RegisterLagMetrics adds the MetricConsumerLag gauge of subs to the meter provider of
// WithTelemetry; every collection (a /metrics scrape) asks the brokers.
func (c *Client) RegisterLagMetrics(subs ...Subscription) error {
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
