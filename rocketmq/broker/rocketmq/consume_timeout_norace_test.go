//go:build !race

// The client's expired-message cleaner (the consume timeout) reads a process queue's
// message tree without its lock while the pull loop writes it (consumer/process_queue.go
// cleanExpiredMsg vs putMessage), which the race detector reports once the timeout is
// short enough to fire in a test. make test runs this file with -run NoRace.

package rocketmq

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// A handler that runs past the consume timeout gets its message again while it still
// runs (the client sends it back to the broker); the late handler finishes undisturbed.
func TestNoRaceConsumeTimeoutRedeliversSlowHandler(t *testing.T) {
	// The client sends an expired message back with delay level 3 (10 s on a real
	// broker); the embedded one is given short levels.
	ns := rmqtest.NameServer(t, minirocketmq.WithDelayLevels(100*time.Millisecond, 200*time.Millisecond, 300*time.Millisecond, 400*time.Millisecond))
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	const timeout = 500 * time.Millisecond
	var deliveries atomic.Int32
	release := make(chan struct{})
	var lateDone atomic.Bool
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		if deliveries.Add(1) == 1 {
			<-release // far past the timeout, until the redelivery arrived
			lateDone.Store(true)
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithConsumeTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 1}, WithKeys([]string{"slow"})); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the redelivery of the message whose handler is late", func() bool { return deliveries.Load() >= 2 })
	close(release)
	poll.Until(t, 10*time.Second, "the late handler to finish", lateDone.Load)
}
