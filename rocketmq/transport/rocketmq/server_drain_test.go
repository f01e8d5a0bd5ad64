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
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestServerStopDrainsAndLosesNothing: Stop with messages in flight waits for the
// running handler, and whatever the server had not acknowledged comes to the next one.
// The v2 subtest is TestNoRaceServerStopDrainsAndLosesNothing (rocketmq-client-go
// races when a consumer stops while its pulls deliver).
func TestServerStopDrainsAndLosesNothing(t *testing.T) {
	forDrivers(t, raceFree, nil, testStopDrainsAndLosesNothing)
}

// TestMetricsRetryOutcome: a failing handler is counted as a retry, not a success.
// The v2 subtest is TestNoRaceMetricsRetryOutcome (it stops the server while the
// failed message is being redelivered).
func TestMetricsRetryOutcome(t *testing.T) {
	forDrivers(t, raceFree, nil, testMetricsRetryOutcome)
}

func testStopDrainsAndLosesNothing(t *testing.T, e *driverEnv) {
	topic, group := e.topic("NORMAL"), e.group(false)

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

	leaks := append(leakOptions, goleak.IgnoreCurrent())
	func() {
		srv := e.server()
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
	srv2 := e.server()
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

// testMetricsRetryOutcome stops the server while the failed message is being
// redelivered.
func testMetricsRetryOutcome(t *testing.T, e *driverEnv) {
	srv, reader, topic, group, _ := metricsServer(t, e, map[int]bool{2: true})
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
