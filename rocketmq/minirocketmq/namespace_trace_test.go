package minirocketmq_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestNamespace: a namespaced producer and consumer work as plain ones,
// retries included: the broker sees ns%topic, %RETRY%ns%group and treats
// '%' as an ordinary character.
func TestNamespace(t *testing.T) {
	ns, b := rmqtest.Start(t, fastLevels())
	space := rmqtest.Name(t, "NS")[:20]
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns, producer.WithNamespace(space))
	if _, err := p.SendSync(context.Background(), newMsg(topic, "namespaced", "n1")); err != nil {
		t.Fatal(err)
	}
	brokerNameOf(t, ns, space+"%"+topic)
	var (
		mu       sync.Mutex
		topics   []string
		attempts int
	)
	c := newPushConsumer(t, ns, group, consumer.WithNamespace(space))
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			topics = append(topics, m.Topic)
			attempts++
		}
		if attempts == 1 {
			cc, _ := primitive.GetConcurrentlyCtx(ctx)
			cc.DelayLevelWhenNextConsume = 1
			return consumer.ConsumeRetryLater, nil
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 60*time.Second, "the message and its redelivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return attempts >= 2
	})
	mu.Lock()
	for _, tp := range topics {
		if tp != space+"%"+topic {
			t.Errorf("consumed from %s", tp)
		}
	}
	mu.Unlock()
	if b != nil {
		if _, ok := b.Topic(space + "%" + topic); !ok {
			t.Error("no namespaced topic on the broker")
		}
		if _, ok := b.Topic(minirocketmq.RetryTopic(space + "%" + group)); !ok {
			t.Error("no namespaced retry topic on the broker")
		}
	}
}

// TestTraceTopic: a trace-enabled producer and consumer work, and their
// trace records (Pub, SubBefore, SubAfter) land in RMQ_SYS_TRACE_TOPIC,
// readable by a plain consumer.
func TestTraceTopic(t *testing.T) {
	ns := rmqtest.NameServer(t)
	if routeQueues(t, ns, minirocketmq.TraceTopic) < 0 {
		t.Skip("this broker runs without traceTopicEnable: no route for " + minirocketmq.TraceTopic)
	}
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	trace := &primitive.TraceConfig{
		Access:   primitive.Local,
		Resolver: primitive.NewPassthroughResolver([]string{ns}),
	}
	p := newProducer(t, ns, producer.WithTrace(trace))
	res, err := p.SendSync(context.Background(), newMsg(topic, "traced", "tr1"))
	if err != nil {
		t.Fatal(err)
	}
	brokerNameOf(t, ns, topic)
	col := newCollector()
	c := newPushConsumer(t, ns, group, consumer.WithTrace(&primitive.TraceConfig{
		Access:   primitive.Local,
		Resolver: primitive.NewPassthroughResolver([]string{ns}),
	}))
	if err := c.Subscribe(topic, consumer.MessageSelector{}, col.handle); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 30*time.Second, "the traced message", func() bool { return col.len() == 1 })

	// The trace records are messages of the trace topic whose keys include
	// the traced message's id.
	var mu sync.Mutex
	kinds := map[string]bool{}
	reader := newPushConsumer(t, ns, rmqtest.Name(t, "TRACE"))
	err = reader.Subscribe(minirocketmq.TraceTopic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			if !strings.Contains(m.GetKeys(), res.MsgID) {
				continue
			}
			for _, rec := range strings.Split(string(m.Body), "\x02") {
				if kind, _, ok := strings.Cut(rec, "\x01"); ok {
					kinds[kind] = true
				}
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, reader)
	waitFor(t, 60*time.Second, "Pub, SubBefore and SubAfter trace records", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return kinds["Pub"] && kinds["SubBefore"] && kinds["SubAfter"]
	})
}
