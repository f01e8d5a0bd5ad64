package minirocketmq_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/rmqtest"
)

func TestMain(m *testing.M) {
	// The client logs every rebalance at info level on stdout.
	rlog.SetLogLevel("error")
	// Every broker the tests started has been closed by now: none of its
	// goroutines may be left.
	goleak.VerifyTestMain(m, append(clientGoroutines(), goleak.IgnoreCurrent())...)
}

// clientGoroutines ignores the official client's goroutines, which outlive
// Shutdown (its timers sleep up to 10 s before checking for it, pulls in
// flight wait for their 30 s timeout, its statistics goroutines never
// end). Nothing of ours runs under primitive.WithRecover.
func clientGoroutines() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/primitive.WithRecover"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/internal/remote.(*remotingClient).InvokeSync"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/consumer.(*pushConsumer).Start.func1.1"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/consumer.(*pushConsumer).Start.func1.1.1"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/consumer.(*statsItemSet).init.func4"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/consumer.(*statsItemSet).init.func5"),
		goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/consumer.(*statsItemSet).init.func6"),
	}
}

var instanceSeq atomic.Int64

// instanceName returns a client instance name unique in this process: the
// client shares one internal client (and its name server list) among all
// producers and consumers with the same instance name.
func instanceName(t testing.TB) string {
	return fmt.Sprintf("%s-%d", rmqtest.Name(t, "i"), instanceSeq.Add(1))
}

func newProducer(t testing.TB, ns string, opts ...producer.Option) rocketmq.Producer {
	t.Helper()
	opts = append([]producer.Option{
		producer.WithNameServer([]string{ns}),
		producer.WithGroupName(rmqtest.Name(t, "PG")),
		producer.WithInstanceName(instanceName(t)),
		producer.WithRetry(2),
	}, opts...)
	p, err := rocketmq.NewProducer(opts...)
	if err != nil {
		t.Fatalf("new producer: %v", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("start producer: %v", err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// newPushConsumer returns a push consumer of group, not yet started.
func newPushConsumer(t testing.TB, ns, group string, opts ...consumer.Option) rocketmq.PushConsumer {
	t.Helper()
	opts = append([]consumer.Option{
		consumer.WithNameServer([]string{ns}),
		consumer.WithGroupName(group),
		consumer.WithInstance(instanceName(t)),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	}, opts...)
	c, err := rocketmq.NewPushConsumer(opts...)
	if err != nil {
		t.Fatalf("new push consumer: %v", err)
	}
	return c
}

// startConsumer starts c and shuts it down in t.Cleanup (unless the test
// did already).
func startConsumer(t testing.TB, c rocketmq.PushConsumer) {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatalf("start consumer: %v", err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func newAdmin(t testing.TB, ns string) admin.Admin {
	t.Helper()
	a, err := admin.NewAdmin(admin.WithResolver(primitive.NewPassthroughResolver([]string{ns})))
	if err != nil {
		t.Fatalf("new admin: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}
