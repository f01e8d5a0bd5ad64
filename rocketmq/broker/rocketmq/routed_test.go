package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

func TestIsUnrouted(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("topic=orders route info not found"), true},
		{errors.New("the topic=orders route info not found"), false}, // no queues: the topic is missing
		{errors.New("send to orders: topic=orders route info not found"), false},
		{errors.New("connection refused"), false},
	} {
		if got := isUnrouted(tc.err); got != tc.want {
			t.Errorf("isUnrouted(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestWhenRouted(t *testing.T) {
	unrouted := errors.New("topic=orders route info not found")
	for _, tc := range []struct {
		name      string
		failures  int   // sends that fail with err before one succeeds
		err       error // their error
		wantCalls int
		wantErr   error
	}{
		{"first send succeeds", 0, nil, 1, nil},
		{"unrouted twice, then sent", 2, unrouted, 3, nil},
		{"unrouted every time: bounded", 100, unrouted, 1 + len(unroutedRetries), unrouted},
		{"another error: not retried", 100, errors.New("broker busy"), 1, errors.New("broker busy")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := whenRouted(context.Background(), func() error {
				calls++
				if calls <= tc.failures {
					return tc.err
				}
				return nil
			})
			if calls != tc.wantCalls || fmt.Sprint(err) != fmt.Sprint(tc.wantErr) {
				t.Errorf("calls %d, err %v; want %d, %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
	t.Run("cancelled context ends the retries", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		calls := 0
		err := whenRouted(ctx, func() error { calls++; return unrouted })
		if calls != 1 || !errors.Is(err, unrouted) {
			t.Errorf("calls %d, err %v", calls, err)
		}
	})
}

// TestConcurrentFirstPublishes: a fresh client publishes to existing topics from 16
// goroutines at once, the first sends of each topic racing in the client (see
// whenRouted); every publish must succeed.
func TestConcurrentFirstPublishes(t *testing.T) {
	ns := rmqtest.NameServer(t)
	setup := newTestBroker(t, ns)
	topics := make([]string, 8)
	for i := range topics {
		topics[i] = rmqtest.Name(t, fmt.Sprintf("T%d", i))
		ensureTopic(t, setup, topics[i])
	}
	for _, topic := range topics {
		b := newTestBroker(t, ns, WithInstanceName(rmqtest.Name(t, "fresh")))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- b.Publish(ctx, topic, []byte(`{"id":1}`))
			}()
		}
		wg.Wait()
		cancel()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("first publishes to %s: %v", topic, err)
			}
		}
	}
}
