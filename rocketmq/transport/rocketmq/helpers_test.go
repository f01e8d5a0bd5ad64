package rocketmq

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

func testLogger() log.Logger {
	return log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelWarn))
}

// newTestServer builds a server on ns with a loopback keep-alive endpoint; Stop is
// registered in Cleanup (a second Stop is a no-op).
func newTestServer(t testing.TB, ns string, opts ...ServerOption) *Server {
	t.Helper()
	all := append([]ServerOption{
		WithNameServer([]string{ns}), WithKeepAliveAddress("127.0.0.1:0"), WithLogger(testLogger()),
	}, opts...)
	srv := NewServer(DriverTypeV2, all...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return srv
}

func start(t testing.TB, srv *Server) {
	t.Helper()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// ensureTopic creates topic with a marked message so consumers can subscribe to it.
func ensureTopic(t testing.TB, ns, topic string) {
	t.Helper()
	ensureTopicWith(t, ns, topic, []byte(`{"id":-1}`))
}

// ensureTopicWith is ensureTopic with a warm-up body the test's codec decodes.
func ensureTopicWith(t testing.TB, ns, topic string, warmup []byte) {
	t.Helper()
	b := rmq.New(rmq.WithNameServer([]string{ns}), broker.WithLogger(testLogger()))
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Publish(ctx, topic, warmup, rmq.WithProperties(map[string]string{headerWarmup: "1"})); err != nil {
		_ = b.Disconnect()
		t.Fatalf("create topic %s: %v", topic, err)
	}
	// Wait for the route (a real broker registers auto-created topics asynchronously)
	// with a probe subscription; disconnect before returning so that no goroutine of
	// the probe outlives the call (tests check for leaks).
	probe := rmqtest.Name(t, "PROBE")
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := b.Subscribe(topic, func(context.Context, broker.Event) error { return nil }, nil, broker.WithQueueName(probe))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = b.Disconnect()
			t.Fatalf("topic %s has no route: %v", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := b.Disconnect(); err != nil {
		t.Fatal(err)
	}
}

const headerWarmup = "test-warmup"

func isWarmup(h broker.Headers) bool { return h[headerWarmup] != "" }

// leakOptions ignore goroutines rocketmq-client-go leaves behind after a clean Shutdown
// (and the embedded broker's side of its connections). Everything of ours is checked,
// and so is any client loop that Shutdown should have ended (they block in select, not
// in the functions below).
var leakOptions = []goleak.Option{
	// Client goroutines that sleep before they look at the done channel: cleanExpiredMsg
	// (ConsumeTimeout, 15 min), the instance's first name-server update (10 s), offset
	// persister (10 s) and heartbeat (1 s), and pull loops of a suspended consumer (30 s).
	goleak.IgnoreTopFunction("time.Sleep"),
	// Pull RPCs in flight at Shutdown: closing the connection does not fail their future,
	// they wait for their timeout (internal/remote/future.go waitResponse).
	goleak.IgnoreTopFunction("github.com/apache/rocketmq-client-go/v2/internal/remote.(*ResponseFuture).waitResponse"),
	// The name-server connection of each client instance: NewNamesrv's remoting client
	// (internal/namesrv.go:122) is never shut down, so its reader lives until the server
	// closes the connection.
	goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/internal/remote.(*remotingClient).receiveResponse"),
	// The transactional producer's check loop ranges over a channel Shutdown never closes.
	goleak.IgnoreAnyFunction("github.com/apache/rocketmq-client-go/v2/producer.(*transactionProducer).checkTransactionState"),
	// The embedded broker's goroutines for those connections (it runs until test Cleanup).
	goleak.IgnoreAnyFunction("github.com/kratos-rocketmq/rocketmq/minirocketmq.(*Broker).serveConn"),
	goleak.IgnoreAnyFunction("github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting.(*Conn).writeLoop"),
}

type order struct {
	ID   int    `json:"id"`
	Note string `json:"note"`
}
