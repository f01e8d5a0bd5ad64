//go:build !race

// The client's orderly push consumer has data races of its own (process_queue.go
// putMessage vs takeMessages, see shared/design/client-quirks.md), so these tests run
// only in the non-race pass (make test runs `go test -run NoRace ./...`).

package rocketmq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/layout/pkg/broker"
	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/rmqtest"
)

func TestNoRaceShardingKeyOrderly(t *testing.T) {
	skipOnEmbedded(t, "orderly consumption (LOCK_BATCH_MQ)")
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
	waitFor(t, 90*time.Second, "both keys complete", func() bool {
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
