package rocketmq

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// testLogger writes warnings and errors to stderr (shown for failing tests).
func testLogger() log.Logger {
	return log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelWarn))
}

// newTestBroker connects a driver to ns and disconnects it in Cleanup.
func newTestBroker(t testing.TB, ns string, opts ...broker.Option) *Broker {
	t.Helper()
	all := append([]broker.Option{WithNameServer([]string{ns}), broker.WithLogger(testLogger())}, opts...)
	b := New(all...)
	if err := b.Connect(); err != nil {
		t.Fatalf("connect to %s: %v", ns, err)
	}
	t.Cleanup(func() {
		if err := b.Disconnect(); err != nil {
			t.Errorf("disconnect: %v", err)
		}
	})
	return b
}

// headerWarmup marks the message ensureTopic sends; test handlers ignore it.
const headerWarmup = "test-warmup"

// ensureTopic creates topic by publishing a marked message (auto-creation) and waits
// until the name server has its route, so that consumers can subscribe (they refuse
// topics without a route; a real broker registers auto-created topics asynchronously).
// The probe subscription stays until b disconnects.
func ensureTopic(t testing.TB, b *Broker, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Publish(ctx, topic, []byte(`{"id":-1}`), WithProperties(map[string]string{headerWarmup: "1"})); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	probe := rmqtest.Name(t, "PROBE")
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := b.Subscribe(topic, func(context.Context, broker.Event) error { return nil }, nil, broker.WithQueueName(probe))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s has no route: %v", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func isWarmup(h broker.Headers) bool { return h[headerWarmup] != "" }

// recorder collects handled events.
type recorder struct {
	mu     sync.Mutex
	events []recorded
}

type recorded struct {
	topic   string
	headers broker.Headers
	body    any
	ctx     context.Context
}

func (r *recorder) add(ctx context.Context, topic string, h broker.Headers, body any) {
	r.mu.Lock()
	r.events = append(r.events, recorded{topic: topic, headers: h, body: body, ctx: ctx})
	r.mu.Unlock()
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.events...)
}

type order struct {
	ID   int    `json:"id"`
	Note string `json:"note"`
}
