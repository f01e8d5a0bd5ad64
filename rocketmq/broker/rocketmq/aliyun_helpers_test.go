package rocketmq

import (
	"context"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// The Aliyun driver's tests run against the embedded broker's HTTP endpoint (a real
// RocketMQ has no HTTP API, so they skip themselves when ROCKETMQ_NAMESRV is set), with
// a 1 s invisible time so that redeliveries come quickly.

const aliyunTestInvisible = time.Second

// startAliyun starts an embedded broker that serves the HTTP API.
func startAliyun(t testing.TB, opts ...minirocketmq.Option) *minirocketmq.Broker {
	t.Helper()
	if rmqtest.External() != "" {
		t.Skip("the HTTP endpoint is the embedded broker's (RocketMQ has none)")
	}
	return minirocketmq.RunT(t, append([]minirocketmq.Option{
		minirocketmq.WithHTTPAddr("127.0.0.1:0"),
		minirocketmq.WithHTTPInvisibleDuration(aliyunTestInvisible),
	}, opts...)...)
}

// newAliyunTestBroker connects an Aliyun driver to mb's HTTP endpoint and disconnects
// it in Cleanup.
func newAliyunTestBroker(t testing.TB, mb *minirocketmq.Broker, opts ...broker.Option) *AliyunBroker {
	t.Helper()
	all := append([]broker.Option{WithNameServer([]string{"http://" + mb.HTTPAddr()}), broker.WithLogger(testLogger())}, opts...)
	b := NewAliyun(all...)
	if err := b.Connect(); err != nil {
		t.Fatalf("connect to %s: %v", mb.HTTPAddr(), err)
	}
	t.Cleanup(func() {
		if err := b.Disconnect(); err != nil {
			t.Errorf("disconnect: %v", err)
		}
	})
	return b
}

// aliyunTopic creates a topic on mb (HTTP clients cannot create topics).
func aliyunTopic(t testing.TB, mb *minirocketmq.Broker, queues int) string {
	t.Helper()
	topic := rmqtest.Name(t, "T")
	if err := mb.CreateTopic(topic, queues); err != nil {
		t.Fatal(err)
	}
	return topic
}

// aliyunCollect subscribes a recorder to topic in group.
func aliyunCollect(t testing.TB, b broker.Broker, topic, group string, opts ...broker.SubscribeOption) *recorder {
	t.Helper()
	rec := &recorder{}
	_, err := b.Subscribe(topic, func(ctx context.Context, evt broker.Event) error {
		rec.add(ctx, evt.Topic(), evt.Message().Headers, evt.Message().Body)
		return nil
	}, nil, append([]broker.SubscribeOption{broker.WithQueueName(group)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func aliyunPublish(t testing.TB, b broker.Broker, topic string, msg any, opts ...broker.PublishOption) broker.PublishResult {
	t.Helper()
	var res broker.PublishResult
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Publish(ctx, topic, msg, append(opts, broker.WithPublishResult(&res))...); err != nil {
		t.Fatalf("publish to %s: %v", topic, err)
	}
	return res
}
