package reliability

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// clientLeftovers are goroutines rocketmq-client-go leaves after a clean Shutdown by
// design (see transport/rocketmq's leak options): they end on their own, when a
// sleep or a request timeout ends. Everything of ours is checked.
var clientLeftovers = []goleak.Option{
	// Loops that sleep before they look at the done channel (offset persister,
	// heartbeat, first name-server update, cleanExpiredMsg).
	goleak.IgnoreTopFunction("time.Sleep"),
	// Requests in flight at Shutdown wait for their timeout.
	goleak.IgnoreTopFunction("github.com/apache/rocketmq-client-go/v2/internal/remote.(*ResponseFuture).waitResponse"),
	// The transactional producer's check loop ranges over a channel Shutdown never closes.
	goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/producer.(*transactionProducer).checkTransactionState"),
}

// openFDs counts this process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}

// stopCtx is a context that ends after d, cancelled at the end of t.
func stopCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newLeakServer starts a transport server subscribed to a fresh topic with handler h
// and publishes five messages to it.
func newLeakServer(t *testing.T, ns string, h func(context.Context, string, broker.Headers, *Job) error) *rocketmq.Server {
	topic := rmqtest.Name(t, "leak")
	EnsureTopics(t, ns, topic)
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2, rocketmq.WithNameServer([]string{ns}),
		rocketmq.WithLogger(Logger()), rocketmq.WithEnableKeepAlive(true), rocketmq.WithKeepAliveAddress("127.0.0.1:0"))
	if err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, rmqtest.Name(t, "leakc"), h, rmq.WithConsumeFromFirst()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := NewProducer(t, ns)
	for i := 0; i < 5; i++ {
		if err := p.Publish(context.Background(), topic, &Job{Key: key(i)}); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// checkStopPath runs one stop path against an embedded broker of its own, closes the
// broker, and then requires the goroutines (goleak, less the client's documented
// leftovers) and the open file descriptors to be back where they were before.
func checkStopPath(t *testing.T, run func(t *testing.T, b *minirocketmq.Broker)) {
	ignore := goleak.IgnoreCurrent()
	fds := openFDs(t)
	t.Run("run", func(t *testing.T) {
		b, err := minirocketmq.Run(ShortDelays())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() }) // after the run's own cleanups (they disconnect)
		run(t, b)
	})
	if t.Failed() {
		return
	}
	var leakErr error
	deadline := time.Now().Add(30 * time.Second)
	for {
		leakErr = goleak.Find(append([]goleak.Option{ignore}, clientLeftovers...)...)
		if leakErr == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leakErr != nil {
		t.Errorf("goroutines left after the stop: %v", leakErr)
	}
	poll.Until(t, 30*time.Second, "the file descriptors to be back to the baseline", func() bool { return openFDs(t) <= fds })
}

// TestStopPathsLeakNothing runs each way a client of ours can stop (checkStopPath).
// The stop forced while messages sit in the client's buffers is in
// TestNoRaceStopForcedLeaksNothing: the client's Shutdown races with its own pull
// goroutines there (see handler_slow_norace_test.go).
func TestStopPathsLeakNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, b *minirocketmq.Broker)
	}{
		{"producer Disconnect", func(t *testing.T, b *minirocketmq.Broker) {
			topic := rmqtest.Name(t, "leak")
			EnsureTopics(t, b.Addr(), topic)
			p := NewProducer(t, b.Addr())
			for i := 0; i < 10; i++ {
				if err := p.Publish(context.Background(), topic, &Job{Key: key(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Disconnect(); err != nil {
				t.Fatal(err)
			}
		}},
		{"transactional producer Disconnect", func(t *testing.T, b *minirocketmq.Broker) {
			topic := rmqtest.Name(t, "leak")
			EnsureTopics(t, b.Addr(), topic)
			p := NewProducer(t, b.Addr(), rmq.WithGroupName(rmqtest.Name(t, "txp")),
				rmq.WithTransactionChecker(func(context.Context, *broker.Message) broker.TransactionState { return broker.TransactionCommit }))
			err := p.Publish(context.Background(), topic, &Job{Key: "tx"},
				rmq.WithTransaction(func(context.Context, *broker.Message) broker.TransactionState { return broker.TransactionCommit }))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Disconnect(); err != nil {
				t.Fatal(err)
			}
		}},
		{"server Stop after consuming", func(t *testing.T, b *minirocketmq.Broker) {
			got := make(chan struct{}, 5)
			srv := newLeakServer(t, b.Addr(), func(context.Context, string, broker.Headers, *Job) error { got <- struct{}{}; return nil })
			for i := 0; i < 5; i++ {
				<-got
			}
			if err := srv.Stop(stopCtx(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
		}},
		{"server Stop twice, and Stop before Start", func(t *testing.T, b *minirocketmq.Broker) {
			idle := rocketmq.NewServer(rocketmq.DriverTypeV2, rocketmq.WithNameServer([]string{b.Addr()}), rocketmq.WithLogger(Logger()))
			if _, err := idle.Endpoint(); err != nil { // opens the keep-alive listener
				t.Fatal(err)
			}
			if err := idle.Stop(stopCtx(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			got := make(chan struct{}, 5)
			srv := newLeakServer(t, b.Addr(), func(context.Context, string, broker.Headers, *Job) error { got <- struct{}{}; return nil })
			for i := 0; i < 5; i++ {
				<-got // Stop with messages in the client's buffers is the forced case (norace)
			}
			for i := 0; i < 2; i++ {
				if err := srv.Stop(stopCtx(t, 10*time.Second)); err != nil {
					t.Fatalf("Stop %d: %v", i+1, err)
				}
			}
		}},
		{"server Stop after the broker died", func(t *testing.T, b *minirocketmq.Broker) {
			got := make(chan struct{}, 5)
			srv := newLeakServer(t, b.Addr(), func(context.Context, string, broker.Headers, *Job) error { got <- struct{}{}; return nil })
			for i := 0; i < 5; i++ {
				<-got
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Stop(stopCtx(t, 10*time.Second)) }()
			select {
			case err := <-done:
				if err != nil {
					t.Logf("Stop without a broker: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Stop hangs when the broker is gone")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkStopPath(t, tc.run) })
	}
}
