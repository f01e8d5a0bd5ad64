//go:build !race

// Stopping a push consumer while its pulls still deliver messages races inside
// rocketmq-client-go: consumer/process_queue.go putMessage sends on pq.msgCh while
// (*defaultConsumer).shutdown closes it (consumer.go:306). This test stops a server with
// messages in flight on purpose, so it runs only in the non-race pass
// (`go test -run NoRace ./...` in make test).

package rocketmq

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestNoRaceServerStopDrainsAndLosesNothing(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")

	var mu sync.Mutex
	acked := map[int]int{}
	record := func(id int) {
		mu.Lock()
		acked[id]++
		mu.Unlock()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	const n = 20
	first := make(chan struct{})
	release := make(chan struct{})
	var slowDone atomic.Bool
	var once sync.Once

	ensureTopic(t, ns, topic)
	leaks := append(leakOptions, goleak.IgnoreCurrent())
	func() {
		srv := newTestServer(t, ns)
		err := RegisterSubscriber(srv, context.Background(), topic, group,
			func(ctx context.Context, _ string, h broker.Headers, o *order) error {
				if isWarmup(h) {
					return nil
				}
				slow := false
				once.Do(func() { slow = true })
				if slow {
					close(first)
					<-release // a slow handler, still running when Stop begins
					slowDone.Store(true)
				}
				record(o.ID)
				return nil
			}, rmq.WithConsumeFromFirst(), rmq.WithConcurrency(2))
		if err != nil {
			t.Fatal(err)
		}
		start(t, srv)
		for i := 0; i < n; i++ {
			if err := srv.Publish(context.Background(), topic, &order{ID: i}); err != nil {
				t.Fatal(err)
			}
		}
		<-first
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stopped <- srv.Stop(ctx)
		}()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a handler was running", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !slowDone.Load() {
			t.Fatal("Stop returned before the slow handler finished")
		}
	}()
	goleak.VerifyNone(t, leaks...)

	// Whatever the first server had not acknowledged comes to the next one.
	srv2 := newTestServer(t, ns)
	err := RegisterSubscriber(srv2, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				record(o.ID)
			}
			return nil
		}, rmq.WithConsumeFromFirst(), rmq.WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv2)
	poll.Until(t, 60*time.Second, fmt.Sprintf("all %d messages acknowledged", n), func() bool { return count() == n })
}

// TestNoRaceMetricsRetryOutcome stops the server while the failed message is being
// redelivered (see the file comment), so it is NoRace.
func TestNoRaceMetricsRetryOutcome(t *testing.T) {
	srv, reader, topic, group, _ := metricsServer(t, map[int]bool{2: true})
	if err := srv.Publish(context.Background(), topic, &order{ID: 2}); err != nil {
		t.Fatal(err)
	}
	tp, gr := attribute.String("topic", topic), attribute.String("group", group)
	poll.Until(t, 30*time.Second, "a retry outcome", func() bool {
		return metricsSum(t, reader, rmq.MetricConsumedMessages, tp, gr, attribute.String("outcome", rmq.OutcomeRetry)) >= 1
	})
	// The warm-up message of ensureTopic is the only success.
	if n := metricsSum(t, reader, rmq.MetricConsumedMessages, tp, gr, attribute.String("outcome", rmq.OutcomeSuccess)); n > 1 {
		t.Errorf("success outcomes = %d with a failing handler", n)
	}
}
