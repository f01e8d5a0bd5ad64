package minirocketmq_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

func TestMain(m *testing.M) {
	// The client logs every rebalance at info level on stdout.
	rlog.SetLogLevel("error")
	code := m.Run()
	// Every broker the tests started has been closed by now: none of its
	// goroutines may be left.
	if code == 0 {
		if left := waitOurGoroutinesGone(10 * time.Second); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "goroutines of minirocketmq left after all tests:\n\n%s\n", strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// ourGoroutines returns the stacks of live goroutines running code of this
// module (broker, remoting connections), other than the test runner's own.
// It stands in for goleak where the official client is involved: the
// client leaves goroutines of its own behind after Shutdown (timers that
// sleep before checking for it, pulls waiting out their 30 s timeout,
// statistics loops that never end, rebalances queued on a mutex), under
// names goleak would need listed one by one. Tests without the client use
// goleak.VerifyNone directly.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	// The first stack is the calling goroutine's.
	for _, g := range strings.Split(string(buf), "\n\n")[1:] {
		if strings.Contains(g, "github.com/kratos-rocketmq/rocketmq/minirocketmq") &&
			!strings.Contains(g, "testing.(*M)") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return out
}

// waitOurGoroutinesGone polls ourGoroutines until none is left or d passes,
// and returns what is left.
func waitOurGoroutinesGone(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		left := ourGoroutines()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
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
// did already, with stopConsumer).
func startConsumer(t testing.TB, c rocketmq.PushConsumer) {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatalf("start consumer: %v", err)
	}
	started := time.Now()
	t.Cleanup(func() { stopConsumer(c, started) })
}

// consumerSettleTime is how long after its Start a consumer is shut down
// at the earliest: the client's Shutdown writes a flag that the rebalance
// Start (or a NOTIFY_CONSUMER_IDS_CHANGED) set off reads without
// synchronisation, a race of the client's own that -race reports when a
// fast test stops its consumer right away (the driver waits the same,
// broker/rocketmq settleTime).
const consumerSettleTime = time.Second

// stopConsumer shuts c down, no earlier than consumerSettleTime after
// started.
func stopConsumer(c rocketmq.PushConsumer, started time.Time) {
	time.Sleep(time.Until(started.Add(consumerSettleTime)))
	_ = c.Shutdown()
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
