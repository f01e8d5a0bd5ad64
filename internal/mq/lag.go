package mq

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/rocketmq/admin"
)

// MetricConsumerLag is the gauge of messages stored but not yet consumed, per queue.
const MetricConsumerLag = "rocketmq.consumer.lag"

// RegisterLagMetrics adds the consumer-lag gauge of every clustering subscription of the
// endpoint (broadcast consumers keep their offsets locally, so the broker knows no lag).
// The gauge asks the brokers at every collection.
func RegisterLagMetrics(mp metric.MeterProvider, ep *Endpoint) error {
	meter := mp.Meter("internal/mq")
	gauge, err := meter.Int64ObservableGauge(MetricConsumerLag,
		metric.WithDescription("Messages stored in a queue that the consumer group has not consumed yet."),
		metric.WithUnit("{message}"))
	if err != nil {
		return fmt.Errorf("consumer lag gauge: %w", err)
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		lags, err := ConsumerLag(ctx, ep)
		for _, l := range lags {
			o.ObserveInt64(gauge, l.Lag(), metric.WithAttributes(
				attribute.String("topic", l.Topic), attribute.String("group", l.Group),
				attribute.String("broker", l.Broker), attribute.Int("queue", l.QueueID)))
		}
		return err
	}, gauge)
	return err
}

// ConsumerLag reads broker and consumer offsets of every queue of every clustering
// subscription of the endpoint.
func ConsumerLag(ctx context.Context, ep *Endpoint) ([]admin.QueueLag, error) {
	c := ep.Consumer
	ns := c.GetNamespace()
	var subs []admin.Subscription
	for _, s := range c.GetSubscriptions() {
		if s.GetConsumeMode() == conf.ConsumeMode_BROADCASTING {
			continue
		}
		group := s.GetGroup()
		if group == "" {
			group = c.GetGroup()
		}
		subs = append(subs, admin.Subscription{Topic: Namespaced(ns, s.GetTopic()), Group: Namespaced(ns, group)})
	}
	return admin.ConsumerLag(ctx, ep.NameServers(), subs)
}
