package mq

import (
	"context"
	"fmt"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/remoting"
)

// MetricConsumerLag is the gauge of messages stored but not yet consumed, per queue.
const MetricConsumerLag = "rocketmq.consumer.lag"

// QueueLag is one queue's consumer progress.
type QueueLag struct {
	Topic, Group, Broker string
	QueueID              int
	BrokerOffset         int64 // next offset the broker will write
	ConsumerOffset       int64 // next offset the group will read (-1: none committed yet)
}

// Lag is the number of messages the group has yet to consume in the queue.
func (q QueueLag) Lag() int64 {
	if q.ConsumerOffset < 0 {
		return q.BrokerOffset
	}
	return max(q.BrokerOffset-q.ConsumerOffset, 0)
}

// RegisterLagMetrics adds the consumer-lag gauge of every clustering subscription of the
// endpoint (broadcast consumers keep their offsets locally, so the broker knows no lag).
// The gauge asks the brokers at every collection.
func RegisterLagMetrics(mp metric.MeterProvider, ep *Endpoint) error {
	meter := mp.Meter("github.com/kratos-rocketmq/layout/internal/mq")
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
func ConsumerLag(ctx context.Context, ep *Endpoint) ([]QueueLag, error) {
	c := ep.Consumer
	ns := c.GetNamespace()
	wrap := func(s string) string { return Namespaced(ns, s) }
	type sub struct{ topic, group string }
	var subs []sub
	var topics []string
	for _, s := range c.GetSubscriptions() {
		if s.GetConsumeMode() == conf.ConsumeMode_BROADCASTING {
			continue
		}
		group := s.GetGroup()
		if group == "" {
			group = c.GetGroup()
		}
		subs = append(subs, sub{wrap(s.GetTopic()), wrap(group)})
		topics = append(topics, wrap(s.GetTopic()))
	}
	if len(subs) == 0 {
		return nil, nil
	}
	routes, queues, err := routesWithQueues(ctx, ep.NameServers(), topics)
	if err != nil {
		return nil, err
	}
	var out []QueueLag
	for _, s := range subs {
		for brokerName, addr := range routes[s.topic] {
			l, err := queueLags(ctx, addr, brokerName, s.topic, s.group, queues[s.topic][brokerName])
			if err != nil {
				return out, err
			}
			out = append(out, l...)
		}
	}
	return out, nil
}

func queueLags(ctx context.Context, addr, brokerName, topic, group string, queues int) ([]QueueLag, error) {
	conn, err := remoting.Dial(ctx, addr, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := make([]QueueLag, 0, queues)
	for q := 0; q < queues; q++ {
		qs := strconv.Itoa(q)
		maxResp, err := conn.Invoke(ctx, remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", qs))
		if err != nil {
			return out, fmt.Errorf("max offset of %s/%d on %s: %w", topic, q, addr, err)
		}
		brokerOff, _, _ := maxResp.Int("offset")
		consumerOff := int64(-1)
		resp, err := conn.Invoke(ctx, remoting.NewRequest(remoting.QueryConsumerOffset,
			"consumerGroup", group, "topic", topic, "queueId", qs))
		if err != nil {
			return out, fmt.Errorf("consumer offset of %s/%s/%d on %s: %w", group, topic, q, addr, err)
		}
		if resp.Code == remoting.Success {
			consumerOff, _, _ = resp.Int("offset")
		}
		out = append(out, QueueLag{Topic: topic, Group: group, Broker: brokerName, QueueID: q,
			BrokerOffset: brokerOff, ConsumerOffset: consumerOff})
	}
	return out, nil
}
