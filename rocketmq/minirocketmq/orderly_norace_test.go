//go:build !race

// The client's orderly push consumer has data races of its own
// (process_queue.go putMessage vs takeMessages, client-quirks.md), so these
// tests run in the non-race pass only (make test: go test -run NoRace ./...).

package minirocketmq_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// orderLedger checks per-key order across consumers: a message is never
// handled before every earlier message of its key was (redeliveries of
// earlier ones around a rebalance are allowed: orderly is at least once),
// and two handlers never run for one key at the same time (one owner per
// queue, which the broker's locks ensure).
type orderLedger struct {
	mu         sync.Mutex
	next       map[string]int  // key → lowest sequence number not handled yet
	busy       map[string]bool // key → a handler is running
	violations []string
	handled    int
}

func newOrderLedger() *orderLedger {
	return &orderLedger{next: map[string]int{}, busy: map[string]bool{}}
}

func (l *orderLedger) handler(name string) func(context.Context, ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	return func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			key := m.GetProperty("key")
			seq, _ := strconv.Atoi(m.GetProperty("seq"))
			l.mu.Lock()
			if l.busy[key] {
				l.violations = append(l.violations, fmt.Sprintf("%s: key %s handled concurrently at seq %d", name, key, seq))
			}
			if seq > l.next[key] {
				l.violations = append(l.violations, fmt.Sprintf("%s: key %s seq %d before seq %d", name, key, seq, l.next[key]))
			}
			l.busy[key] = true
			l.mu.Unlock()
			time.Sleep(time.Millisecond) // a handler that takes some time, so overlaps would show
			l.mu.Lock()
			l.busy[key] = false
			if seq == l.next[key] {
				l.next[key]++
			}
			l.handled++
			l.mu.Unlock()
		}
		return consumer.ConsumeSuccess, nil
	}
}

func (l *orderLedger) done(keys, perKey int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.next) < keys {
		return false
	}
	for _, n := range l.next {
		if n < perKey {
			return false
		}
	}
	return true
}

// TestNoRaceOrderly: 10 sharding keys × 100 messages sent through the hash
// selector (each key on one stable queue), two orderly consumers, a third
// joining mid-stream: per-key order is never violated and every message is
// handled. The broker's LOCK_BATCH_MQ keeps one owner per queue across the
// rebalance.
func TestNoRaceOrderly(t *testing.T) {
	const keys, perKey = 10, 100
	// The Go client does not unlock a queue it loses in a rebalance: the
	// queue changes hands when the lock expires. A shorter expiry than
	// the default 60 s, still above the clients' 20 s renewal, keeps the
	// test short.
	ns, b := rmqtest.Start(t, minirocketmq.WithLockExpiry(25*time.Second))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns, producer.WithQueueSelector(producer.NewHashQueueSelector()))
	queueOf := map[string]int{}
	send := func(from, to int) {
		t.Helper()
		for seq := from; seq < to; seq++ {
			for k := range keys {
				key := fmt.Sprintf("key-%d", k)
				m := primitive.NewMessage(topic, []byte(key))
				m.WithShardingKey(key)
				m.WithProperty("key", key)
				m.WithProperty("seq", strconv.Itoa(seq))
				res, err := p.SendSync(context.Background(), m)
				if err != nil {
					t.Fatal(err)
				}
				if q, ok := queueOf[key]; ok && q != res.MessageQueue.QueueId {
					t.Fatalf("key %s went to queue %d, earlier to %d", key, res.MessageQueue.QueueId, q)
				}
				queueOf[key] = res.MessageQueue.QueueId
			}
		}
	}
	send(0, 1) // creates the topic
	brokerNameOf(t, ns, topic)

	ledger := newOrderLedger()
	start := func(name string) rocketmq.PushConsumer {
		c := newPushConsumer(t, ns, group, consumer.WithConsumerOrder(true))
		if err := c.Subscribe(topic, consumer.MessageSelector{}, ledger.handler(name)); err != nil {
			t.Fatal(err)
		}
		startConsumer(t, c)
		return c
	}
	start("c1")
	start("c2")
	send(1, 40)
	start("c3")
	send(40, perKey)
	waitFor(t, 120*time.Second, "every key complete", func() bool { return ledger.done(keys, perKey) })
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	if len(ledger.violations) > 0 {
		t.Fatalf("%d order violations, first: %v", len(ledger.violations), ledger.violations[:min(5, len(ledger.violations))])
	}
	if b != nil {
		// Every queue of the topic is locked by one member of the group.
		for q := range 4 {
			if owner := b.QueueLockOwner(group, topic, q); owner == "" {
				t.Errorf("queue %d of %s is not locked", q, topic)
			}
		}
		if b.QueueLockOwner(group, topic, 4) != "" || b.QueueLockOwner("OtherGroup", topic, 0) != "" {
			t.Error("a lock nobody took")
		}
	}
	t.Logf("%d handled for %d messages", ledger.handled, keys*perKey)
}

// queueLedger records, per queue, which consumer is inside its handler, so
// that two consumers handling one queue at once are caught.
type queueLedger struct {
	mu         sync.Mutex
	busy       map[int]string // queue id → consumer handling it now
	handled    map[string]map[int]int
	violations []string
	total      int
}

func (l *queueLedger) handler(name string, took time.Duration) func(context.Context, ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	return func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		q := msgs[0].Queue.QueueId
		l.mu.Lock()
		if other := l.busy[q]; other != "" {
			l.violations = append(l.violations, fmt.Sprintf("queue %d handled by %s and %s at once", q, other, name))
		}
		l.busy[q] = name
		l.mu.Unlock()
		time.Sleep(took)
		l.mu.Lock()
		if l.busy[q] == name {
			l.busy[q] = ""
		}
		if l.handled[name] == nil {
			l.handled[name] = map[int]int{}
		}
		l.handled[name][q] += len(msgs)
		l.total += len(msgs)
		l.mu.Unlock()
		return consumer.ConsumeSuccess, nil
	}
}

// TestNoRaceOrderlyQueueContention: two orderly consumers of one group
// contend for the same queues and never handle one queue at the same time.
// The first consumer owns both queues of a topic and is inside a long
// (6 s) handler on each when the second joins; rebalancing takes one queue
// from the first, which finishes its in-flight message and never unlocks
// the queue (the Go client does not). Only the broker's lock keeps the
// newcomer off that queue until the first's lock expires (21 s, above the
// clients' 20 s renewal); with locks granted to anyone, the newcomer starts
// on it about 3 s after it joins, in the middle of the first's handler.
// The queue does change hands (the newcomer consumes from it), so the test
// cannot pass by nobody contending.
func TestNoRaceOrderlyQueueContention(t *testing.T) {
	skipExternal(t) // the real broker's lock expiry is 60 s
	b := runBroker(t, minirocketmq.WithLockExpiry(21*time.Second))
	ns := b.Addr()
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if err := b.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, ns, producer.WithQueueSelector(producer.NewManualQueueSelector()))
	const perQueue = 3
	for i := range perQueue {
		for q := range 2 {
			m := primitive.NewMessage(topic, []byte(fmt.Sprint(i)))
			m.Queue = &primitive.MessageQueue{Topic: topic, BrokerName: minirocketmq.DefaultBrokerName, QueueId: q}
			if _, err := p.SendSync(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	ledger := &queueLedger{busy: map[int]string{}, handled: map[string]map[int]int{}}
	start := func(name string) {
		c := newPushConsumer(t, ns, group, consumer.WithConsumerOrder(true), consumer.WithConsumeMessageBatchMaxSize(1))
		if err := c.Subscribe(topic, consumer.MessageSelector{}, ledger.handler(name, 6*time.Second)); err != nil {
			t.Fatal(err)
		}
		startConsumer(t, c)
	}
	start("first")
	waitFor(t, 30*time.Second, "the first consumer inside a handler on both queues", func() bool {
		ledger.mu.Lock()
		defer ledger.mu.Unlock()
		return ledger.busy[0] == "first" && ledger.busy[1] == "first"
	})
	start("second")
	waitFor(t, 90*time.Second, "every message, some by the second consumer", func() bool {
		ledger.mu.Lock()
		defer ledger.mu.Unlock()
		return len(ledger.handled["second"]) > 0 && ledger.total >= 2*perQueue
	})
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	if len(ledger.violations) > 0 {
		t.Fatalf("%d violations, first: %v", len(ledger.violations), ledger.violations[:min(5, len(ledger.violations))])
	}
	t.Logf("handled: %v", ledger.handled)
}
