//go:build !race

// The client's orderly push consumer has data races of its own (process_queue.go
// putMessage vs takeMessages; see transport/rocketmq/README.md, "rocketmq-client-go v2
// behaviour this code works around"), so these tests run only in the non-race pass
// (make test runs `go test -run NoRace ./...`).

package rocketmq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestNoRaceShardingKeyOrderly(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var mu sync.Mutex
	seen := map[string][]int{}
	failedOnce := false
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if o.ID == 3 && !failedOnce { // one failure: the queue suspends and retries the same message
			failedOnce = true
			return errors.New("fail once")
		}
		seen[o.Note] = append(seen[o.Note], o.ID)
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithOrderly(), WithSuspendInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := 0; i < n; i++ {
		for _, key := range []string{"alpha", "beta"} {
			if err := b.Publish(context.Background(), topic, &order{ID: i, Note: key}, WithShardingKey(key)); err != nil {
				t.Fatal(err)
			}
		}
	}
	poll.Until(t, 90*time.Second, "both keys complete", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen["alpha"]) >= n && len(seen["beta"]) >= n
	})
	mu.Lock()
	defer mu.Unlock()
	for key, ids := range seen {
		for i, id := range ids {
			if id != i {
				t.Fatalf("key %s delivered out of order: %v", key, ids)
			}
		}
	}
}

func TestNoRaceOrderlyUndecodableGoesToDLQ(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var mu sync.Mutex
	var ids []int
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			mu.Lock()
			ids = append(ids, o.ID)
			mu.Unlock()
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithOrderly(), WithMaxReconsumeTimes(5),
		WithSuspendInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Same sharding key: one queue, so the good message after the bad one proves the
	// queue moved on instead of suspending on the bad one up to max reconsume times.
	if err := b.Publish(ctx, topic, []byte("not json"), WithShardingKey("k"), WithKeys([]string{"garbage"})); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, topic, &order{ID: 2}, WithShardingKey("k")); err != nil {
		t.Fatal(err)
	}
	dlq := subscribeDLQWhenCreated(t, b, group)
	poll.Until(t, 60*time.Second, "the undecodable message in the DLQ", func() bool { return dlq.len() >= 1 })
	if e := dlq.all()[0]; e.headers[HeaderKeys] != "garbage" {
		t.Errorf("dead letter = %q %v", e.body, e.headers)
	}
	poll.Until(t, 30*time.Second, "the message after it", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ids) == 1 && ids[0] == 2
	})
}
