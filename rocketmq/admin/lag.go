package admin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Subscription names a consumer group's topic, both as the broker knows them (with the
// namespace prefix, if any).
type Subscription struct {
	Topic, Group string
}

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

// ConsumerLag reads the broker offset and the group's committed offset of every queue of
// every subscription's topic, from the brokers the first answering name server routes
// the topics to. Broadcast consumers keep their offsets locally: the broker knows no lag
// for them, so leave them out.
func ConsumerLag(ctx context.Context, nameServers []string, subs []Subscription, opts ...Option) ([]QueueLag, error) {
	if len(subs) == 0 {
		return nil, nil
	}
	o := newOptions(opts)
	topics := make([]string, len(subs))
	for i, s := range subs {
		topics[i] = s.Topic
	}
	routes, queues, err := o.routesWithQueues(ctx, nameServers, topics)
	if err != nil {
		return nil, err
	}
	var out []QueueLag
	for _, s := range subs {
		for brokerName, addr := range routes[s.Topic] {
			l, err := o.queueLags(ctx, addr, brokerName, s.Topic, s.Group, queues[s.Topic][brokerName])
			if err != nil {
				return out, err
			}
			out = append(out, l...)
		}
	}
	return out, nil
}

func (o *options) queueLags(ctx context.Context, addr, brokerName, topic, group string, queues int) ([]QueueLag, error) {
	conn, err := o.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := make([]QueueLag, 0, queues)
	for q := 0; q < queues; q++ {
		qs := strconv.Itoa(q)
		maxResp, err := o.invoke(ctx, conn, remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", qs))
		if err == nil && maxResp.Code != remoting.Success {
			err = fmt.Errorf("code %d: %s", maxResp.Code, maxResp.Remark)
		}
		if err != nil {
			return out, fmt.Errorf("max offset of %s/%d on %s: %w", topic, q, addr, err)
		}
		brokerOff, _, _ := maxResp.Int("offset")
		consumerOff := int64(-1)
		resp, err := o.invoke(ctx, conn, remoting.NewRequest(remoting.QueryConsumerOffset,
			"consumerGroup", group, "topic", topic, "queueId", qs))
		if err == nil && resp.Code != remoting.Success && resp.Code != remoting.QueryNotFound {
			err = fmt.Errorf("code %d: %s", resp.Code, resp.Remark)
		}
		if err != nil {
			return out, fmt.Errorf("consumer offset of %s/%s/%d on %s: %w", group, topic, q, addr, err)
		}
		if resp.Code == remoting.Success { // QUERY_NOT_FOUND: the group committed none
			consumerOff, _, _ = resp.Int("offset")
		}
		out = append(out, QueueLag{Topic: topic, Group: group, Broker: brokerName, QueueID: q,
			BrokerOffset: brokerOff, ConsumerOffset: consumerOff})
	}
	return out, nil
}
