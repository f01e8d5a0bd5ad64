package rocketmq

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestSelectorFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  broker.SubscribeOption
		want consumer.MessageSelector
	}{
		{"default: every tag", func(*broker.SubscribeOptions) {}, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}},
		{"tags", WithTagSelector("a || b"), consumer.MessageSelector{Type: consumer.TAG, Expression: "a || b"}},
		{"sql92", WithSQLSelector("a > 5"), consumer.MessageSelector{Type: consumer.SQL92, Expression: "a > 5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := broker.NewSubscribeOptions(tc.opt)
			if got := selectorFor(&o); got != tc.want {
				t.Errorf("selector = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSubscribeOptionsMapToFields(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := broker.NewSubscribeOptions(WithConsumerModel(MessageModelBroadCasting), WithOrderly(), WithConcurrency(3),
		WithMaxReconsumeTimes(4), WithRetryDelayLevel(2), WithSuspendInterval(time.Second), WithConsumeFromTimestamp(ts))
	if !o.Broadcast || !o.Orderly || o.Concurrency != 3 || o.MaxReconsumeTimes != 4 || o.RetryDelayLevel != 2 ||
		o.SuspendInterval != time.Second || o.ConsumeFrom != broker.ConsumeFromTimestamp || !o.ConsumeTimestamp.Equal(ts) {
		t.Errorf("options = %+v", o)
	}
	p := broker.NewPublishOptions(WithTag("t"), WithKeys([]string{"k"}), WithShardingKey("s"), WithDelayTimeLevel(3),
		WithProperties(map[string]string{"a": "b"}), WithOneway())
	if p.Tags != "t" || p.Keys[0] != "k" || p.ShardingKey != "s" || p.DelayLevel != 3 || p.Headers["a"] != "b" || !p.Oneway {
		t.Errorf("publish options = %+v", p)
	}
}

func TestNamespaceIsHiddenFromHandlers(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns, WithNamespace("tenant1"))
	topic := rmqtest.Name(t, "T")
	ensureTopic(t, b, topic)
	var rec recorder
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			rec.add(ctx, tp, h, o)
		}
		return nil
	}, broker.WithQueueName(rmqtest.Name(t, "G")), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the message", func() bool { return rec.len() == 1 })
	e := rec.all()[0]
	if e.topic != topic || e.headers[HeaderTopic] != topic {
		t.Errorf("handler saw topic %q / header %q, want %q", e.topic, e.headers[HeaderTopic], topic)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestClientLogsGoToTheBrokerLogger(t *testing.T) {
	ns := rmqtest.NameServer(t)
	for _, tc := range []struct {
		level    log.Level
		wantInfo bool
	}{
		{log.LevelDebug, true},
		{log.LevelError, false},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			var buf syncBuffer
			b := newTestBroker(t, ns, broker.WithLogger(log.NewStdLogger(&buf)), broker.WithClientLogLevel(tc.level))
			topic := rmqtest.Name(t, "T")
			ensureTopic(t, b, topic) // starts a consumer: the client logs "the consumer start beginning" at info
			got := buf.String()
			hasInfo := strings.Contains(got, "module=rocketmq-client") && strings.Contains(got, "INFO")
			if hasInfo != tc.wantInfo {
				t.Errorf("client info lines present = %v, want %v; log:\n%s", hasInfo, tc.wantInfo, got)
			}
		})
	}
}
