package reliability

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/kratos-rocketmq/rocketmq/admin"
	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// EnvLong turns on the long variants (many runs, more messages): make reliability.
const EnvLong = "RELIABILITY_LONG"

// Long reports whether the long variants run (RELIABILITY_LONG set: make reliability).
func Long() bool { return os.Getenv(EnvLong) != "" }

// Pick returns fast, or slow in the long variants.
func Pick[T any](fast, slow T) T {
	if Long() {
		return slow
	}
	return fast
}

// ShortDelays sets the embedded broker's delay levels to 50 ms steps: redeliveries and
// the client's send-back of timed-out messages (level 3 + reconsume times) come within
// a fraction of a second instead of RocketMQ's 1s, 5s, 10s, 30s, 1m, ...
func ShortDelays() minirocketmq.Option {
	return minirocketmq.WithDelayLevels(
		50*time.Millisecond, 100*time.Millisecond, 150*time.Millisecond, 200*time.Millisecond,
		250*time.Millisecond, 300*time.Millisecond, 350*time.Millisecond, 400*time.Millisecond,
		450*time.Millisecond, 500*time.Millisecond, 550*time.Millisecond, 600*time.Millisecond,
		650*time.Millisecond, 700*time.Millisecond, 750*time.Millisecond, 800*time.Millisecond,
		850*time.Millisecond, 900*time.Millisecond)
}

// Logger shows the warnings and errors of the clients, with go test -v only.
func Logger() log.Logger {
	if testing.Verbose() {
		return log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelWarn))
	}
	return log.NewStdLogger(io.Discard)
}

// EnsureTopics creates topics on the cluster of ns and waits for their routes.
func EnsureTopics(t testing.TB, ns string, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := admin.EnsureTopics(ctx, []string{ns}, topics); err != nil {
		t.Fatal(err)
	}
}

// NewProducer connects a driver to ns for the test's own messages; it disconnects at
// cleanup.
func NewProducer(t testing.TB, ns string, opts ...broker.Option) broker.Broker {
	t.Helper()
	opts = append([]broker.Option{rmq.WithNameServer([]string{ns}), broker.WithLogger(Logger()),
		rmq.WithInstanceName(rmqtest.Name(t, "producer"))}, opts...)
	b, err := rmq.NewBroker(rmq.DriverTypeV2, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Disconnect() })
	return b
}

// ReadDLQ consumes %DLQ%group into c (AddDLQ of each message's keys) as soon as the
// broker has created it (on the first dead letter); it stops at cleanup.
func ReadDLQ(t testing.TB, ns, group string, c *Tally) {
	t.Helper()
	b := NewProducer(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	readerGroup := rmqtest.Name(t, "dlqreader")
	go func() {
		defer close(done)
		for {
			_, err := b.Subscribe("%DLQ%"+group, func(_ context.Context, evt broker.Event) error {
				for _, k := range strings.Fields(evt.Message().Headers[rmq.HeaderKeys]) {
					c.AddDLQ(k)
				}
				return nil
			}, nil, broker.WithQueueName(readerGroup), rmq.WithConsumeFromFirst())
			if err == nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
}

// EnvSeed fixes the seed of the tests' random choices (kill points); each test logs the
// seed it used, so a failing run can be repeated.
const EnvSeed = "RELIABILITY_SEED"

// Seed returns RELIABILITY_SEED or a fresh seed, and logs it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv(EnvSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvSeed, v, err)
		}
		s = n
	}
	t.Logf("seed %d (repeat with %s=%d)", s, EnvSeed, s)
	return s
}
