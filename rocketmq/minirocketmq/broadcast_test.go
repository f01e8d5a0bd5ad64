package minirocketmq_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestBroadcast: three broadcasting consumers of one group each receive
// all 100 messages, once; the broker keeps no offsets for them (the
// clients keep their own).
func TestBroadcast(t *testing.T) {
	const n = 100
	ns, b := rmqtest.Start(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	for i := range n {
		if _, err := p.SendSync(context.Background(), newMsg(topic, fmt.Sprintf("body-%d", i), strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	brokerNameOf(t, ns, topic)
	var cols []*collector
	for range 3 {
		col := newCollector()
		c := newPushConsumer(t, ns, group, consumer.WithConsumerModel(consumer.BroadCasting))
		if err := c.Subscribe(topic, consumer.MessageSelector{}, col.handle); err != nil {
			t.Fatal(err)
		}
		startConsumer(t, c)
		cols = append(cols, col)
	}
	waitFor(t, 60*time.Second, "every consumer to have every message", func() bool {
		for _, col := range cols {
			if col.len() < n {
				return false
			}
		}
		return true
	})
	for i, col := range cols {
		col.mu.Lock()
		if len(col.got) != n || col.dups != 0 {
			t.Errorf("consumer %d: %d messages, %d duplicates", i, len(col.got), col.dups)
		}
		for k, m := range col.got {
			if string(m.Body) != "body-"+k {
				t.Errorf("consumer %d: message %s has body %q", i, k, m.Body)
			}
		}
		col.mu.Unlock()
	}
	if b != nil {
		for q := range 4 {
			if off, ok := b.ConsumerOffset(group, topic, q); ok {
				t.Errorf("broker holds offset %d of a broadcasting group for queue %d", off, q)
			}
		}
	}
}
