package rocketmq

import (
	"context"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The v5 driver's tests run against the embedded broker's gRPC endpoint: real RocketMQ
// 4.9.4 (ROCKETMQ_NAMESRV) has none, so they skip themselves there.

// v5Env is an embedded broker serving RocketMQ 5's gRPC API.
type v5Env struct {
	t    testing.TB
	mini *minirocketmq.Broker
}

// newV5Env starts an embedded broker with the gRPC endpoint on a free port and opts.
func newV5Env(t testing.TB, opts ...minirocketmq.Option) *v5Env {
	t.Helper()
	if rmqtest.External() != "" {
		t.Skip("the v5 driver needs the embedded broker's gRPC endpoint (RocketMQ 4.9.4 has none)")
	}
	all := append([]minirocketmq.Option{
		minirocketmq.WithGRPCAddr("127.0.0.1:0"),
		minirocketmq.WithGRPCLongPolling(100*time.Millisecond, 2*time.Second),
	}, opts...)
	return &v5Env{t: t, mini: minirocketmq.RunT(t, all...)}
}

// in returns the env for subtest t (helpers then fail t, not the parent test).
func (e *v5Env) in(t testing.TB) *v5Env { return &v5Env{t: t, mini: e.mini} }

// connect returns a connected v5 driver on the endpoint, disconnected in Cleanup.
func (e *v5Env) connect(opts ...broker.Option) *V5Broker {
	e.t.Helper()
	all := append([]broker.Option{WithNameServer([]string{e.mini.GRPCAddr()}), broker.WithLogger(testLogger())}, opts...)
	b := NewV5(all...)
	if err := b.Connect(); err != nil {
		e.t.Fatalf("connect to %s: %v", e.mini.GRPCAddr(), err)
	}
	e.t.Cleanup(func() {
		if err := b.Disconnect(); err != nil {
			e.t.Errorf("disconnect: %v", err)
		}
	})
	return b
}

// topic creates a topic of messageType (NORMAL, FIFO, DELAY, TRANSACTION, MIXED) with
// 4 queues and returns its name.
func (e *v5Env) topic(messageType string) string {
	e.t.Helper()
	name := rmqtest.Name(e.t, "T")
	if err := e.mini.CreateTopic(name, 4); err != nil {
		e.t.Fatal(err)
	}
	if err := e.mini.SetTopicMessageType(name, messageType); err != nil {
		e.t.Fatal(err)
	}
	return name
}

// group returns a new group name; fifo makes it a FIFO group (consumeMessageOrderly),
// retryMax > 0 sets its retryMaxTimes.
func (e *v5Env) group(fifo bool, retryMax int) string {
	e.t.Helper()
	name := rmqtest.Name(e.t, "G")
	if fifo || retryMax > 0 {
		cfg := minirocketmq.SubscriptionGroupConfig{GroupName: name, ConsumeEnable: true, ConsumeMessageOrderly: fifo,
			RetryQueueNums: 1, RetryMaxTimes: 16, BrokerID: 0, WhichBrokerWhenConsumeSlowly: 1}
		if retryMax > 0 {
			cfg.RetryMaxTimes = retryMax
		}
		if err := e.mini.UpdateSubscriptionGroup(cfg); err != nil {
			e.t.Fatal(err)
		}
	}
	return name
}

// collectV5 subscribes topic in group and records what the handler gets (raw bodies).
func collectV5(t testing.TB, b broker.Broker, topic, group string, opts ...broker.SubscribeOption) *recorder {
	t.Helper()
	var rec recorder
	_, err := b.Subscribe(topic, func(ctx context.Context, evt broker.Event) error {
		rec.add(ctx, evt.Topic(), evt.Message().Headers, evt.Message().Body)
		return nil
	}, nil, append([]broker.SubscribeOption{broker.WithQueueName(group)}, opts...)...)
	if err != nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	return &rec
}
