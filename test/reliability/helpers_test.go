package reliability

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
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

// long reports whether the long variants run.
func long() bool { return os.Getenv(EnvLong) != "" }

// pick returns fast, or slow in the long variants.
func pick[T any](fast, slow T) T {
	if long() {
		return slow
	}
	return fast
}

// shortDelays are the embedded broker's delay levels in these tests: redeliveries and
// the client's send-back of timed-out messages (level 3 + reconsume times) come within
// a fraction of a second instead of RocketMQ's 1s, 5s, 10s, 30s, 1m, ...
var shortDelays = minirocketmq.WithDelayLevels(
	50*time.Millisecond, 100*time.Millisecond, 150*time.Millisecond, 200*time.Millisecond,
	250*time.Millisecond, 300*time.Millisecond, 350*time.Millisecond, 400*time.Millisecond,
	450*time.Millisecond, 500*time.Millisecond, 550*time.Millisecond, 600*time.Millisecond,
	650*time.Millisecond, 700*time.Millisecond, 750*time.Millisecond, 800*time.Millisecond,
	850*time.Millisecond, 900*time.Millisecond)

// testLogger shows warnings and errors of the clients with -v only.
func testLogger() log.Logger {
	if testing.Verbose() {
		return log.NewFilter(log.NewStdLogger(os.Stderr), log.FilterLevel(log.LevelWarn))
	}
	return log.NewStdLogger(io.Discard)
}

// ensureTopics creates topics on the cluster of ns and waits for their routes.
func ensureTopics(t testing.TB, ns string, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := admin.EnsureTopics(ctx, []string{ns}, topics); err != nil {
		t.Fatal(err)
	}
}

// newProducer connects a driver to ns for the test's own messages; it disconnects at
// cleanup.
func newProducer(t testing.TB, ns string, opts ...broker.Option) broker.Broker {
	t.Helper()
	opts = append([]broker.Option{rmq.WithNameServer([]string{ns}), broker.WithLogger(testLogger()),
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

// tally counts messages by key: what was sent (acknowledged by the broker), what
// handlers confirmed, what reached the dead-letter queue.
type tally struct {
	mu         sync.Mutex
	sent       map[string]bool
	confirmed  map[string]int // key → successful handler runs
	dlq        map[string]int // key → copies in %DLQ%
	deliveries int            // handler runs, failed ones included
}

func newTally() *tally {
	return &tally{sent: map[string]bool{}, confirmed: map[string]int{}, dlq: map[string]int{}}
}

func (c *tally) addSent(key string) {
	c.mu.Lock()
	c.sent[key] = true
	c.mu.Unlock()
}

func (c *tally) addDelivery() {
	c.mu.Lock()
	c.deliveries++
	c.mu.Unlock()
}

func (c *tally) addConfirmed(key string) {
	c.mu.Lock()
	c.confirmed[key]++
	c.mu.Unlock()
}

func (c *tally) addDLQ(key string) {
	c.mu.Lock()
	c.dlq[key]++
	c.mu.Unlock()
}

// missing returns the sent keys neither confirmed nor dead-lettered, sorted.
func (c *tally) missing() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.sent {
		if c.confirmed[k] == 0 && c.dlq[k] == 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// figures is the one-line account the tests log: sent, consumed (distinct keys
// confirmed), dead-lettered (distinct keys), lost, and the duplicates handled.
func (c *tally) figures() string {
	c.mu.Lock()
	sent, confirmed, dlq, dups := len(c.sent), 0, 0, 0
	for k := range c.sent {
		if n := c.confirmed[k]; n > 0 {
			confirmed++
			dups += n - 1
		}
		if c.dlq[k] > 0 {
			dlq++
		}
	}
	deliveries := c.deliveries
	c.mu.Unlock()
	return fmt.Sprintf("sent=%d consumed=%d dlq=%d lost=%d (handler runs=%d, duplicate confirmations=%d)",
		sent, confirmed, dlq, len(c.missing()), deliveries, dups)
}

// waitAccounted waits until every sent key is confirmed or dead-lettered, then fails t
// naming the missing keys.
func (c *tally) waitAccounted(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m := c.missing()
		if len(m) == 0 {
			return
		}
		if time.Now().After(deadline) {
			if len(m) > 20 {
				m = append(m[:20], "...")
			}
			t.Fatalf("after %s, %s; missing keys: %s", d, c.figures(), strings.Join(m, " "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readDLQ consumes %DLQ%group into c as soon as the broker has created it (on the first
// dead letter); it stops at cleanup.
func readDLQ(t testing.TB, ns, group string, c *tally) {
	t.Helper()
	b := newProducer(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	readerGroup := rmqtest.Name(t, "dlqreader")
	go func() {
		defer close(done)
		for {
			_, err := b.Subscribe("%DLQ%"+group, func(_ context.Context, evt broker.Event) error {
				for _, k := range strings.Fields(evt.Message().Headers[rmq.HeaderKeys]) {
					c.addDLQ(k)
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
