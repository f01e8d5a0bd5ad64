package cluster

import (
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// Subscription is what a configuration says about one subscription of a consumer.
type Subscription struct {
	// Topic and Group as the client uses them (Client adds the namespace).
	Topic, Group string
	// TagExpression filters on tags ("*", "A", "A || B"); SQLExpression filters on
	// properties with SQL92 instead. Both empty: every message.
	TagExpression, SQLExpression string
	// Broadcast delivers every message to every consumer of the group (default: each
	// message to one of them).
	Broadcast bool
	// Orderly delivers the messages of a queue one at a time, in order.
	Orderly bool
	// MaxReconsumeTimes is the redeliveries before the dead-letter queue (0: 16).
	MaxReconsumeTimes int
	// Concurrency is the number of handlers running at once (0: 20).
	Concurrency int
	// ConsumeFrom says where a new group starts (zero, broker.ConsumeFromLast: after the
	// newest message); with broker.ConsumeFromTimestamp, at ConsumeTimestamp.
	ConsumeFrom      broker.ConsumeFrom
	ConsumeTimestamp time.Time
}

// Options returns the subscribe options of s, for RegisterSubscriber or Subscribe; the
// group is passed there separately.
func (s Subscription) Options() []broker.SubscribeOption {
	var opts []broker.SubscribeOption
	switch {
	case s.SQLExpression != "":
		opts = append(opts, rmq.WithSQLSelector(s.SQLExpression))
	case s.TagExpression != "":
		opts = append(opts, rmq.WithTagSelector(s.TagExpression))
	}
	if s.Broadcast {
		opts = append(opts, rmq.WithConsumerModel(rmq.MessageModelBroadCasting))
	}
	if s.Orderly {
		opts = append(opts, rmq.WithOrderly())
	}
	if s.MaxReconsumeTimes > 0 {
		opts = append(opts, rmq.WithMaxReconsumeTimes(s.MaxReconsumeTimes))
	}
	if s.Concurrency > 0 {
		opts = append(opts, rmq.WithConcurrency(s.Concurrency))
	}
	switch s.ConsumeFrom {
	case broker.ConsumeFromFirst:
		opts = append(opts, rmq.WithConsumeFromFirst())
	case broker.ConsumeFromTimestamp:
		opts = append(opts, rmq.WithConsumeFromTimestamp(s.ConsumeTimestamp))
	}
	return opts
}
