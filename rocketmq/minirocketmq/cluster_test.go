package minirocketmq_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// ledger records which consumer received which message.
type ledger struct {
	mu   sync.Mutex
	by   map[string]string // idx → consumer name
	dups []string
}

func (l *ledger) handler(name string) func(context.Context, ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	return func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, m := range msgs {
			k := m.GetProperty("idx")
			if prev, ok := l.by[k]; ok {
				l.dups = append(l.dups, fmt.Sprintf("%s by %s and %s", k, prev, name))
			}
			l.by[k] = name
		}
		return consumer.ConsumeSuccess, nil
	}
}

// TestClusteringRebalance: two consumers of one group split the four queues
// after the second joins; the survivor takes them all after the first
// leaves; a new member gets its share again; every message is consumed
// exactly once.
//
// Joins are made quiet, because the client delivers at least once around a
// rebalance (with the real broker just the same): before a join the
// members' offsets are committed and the test waits until the broker has
// them (the client commits every 5 s, or one batch behind on its next
// pull, and a newcomer starts from the committed offset); after a join the
// old members are made to finish their rebalance before the next message
// is sent (the newcomer rebalances in Start, the others on the broker's
// NOTIFY_CONSUMER_IDS_CHANGED a moment later, and a message sent in
// between reaches both).
func TestClusteringRebalance(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns, producer.WithQueueSelector(producer.NewManualQueueSelector()))
	plain := newProducer(t, ns)
	if _, err := plain.SendSync(context.Background(), newMsg(topic, "create", "create")); err != nil {
		t.Fatal(err)
	}
	broker := brokerNameOf(t, ns, topic)
	led := &ledger{by: map[string]string{}}

	round := 0
	// probe sends one message to each queue and returns which consumer got
	// each queue's message.
	probe := func() map[int]string {
		t.Helper()
		round++
		for q := range 4 {
			m := newMsg(topic, "probe", fmt.Sprintf("r%d-q%d", round, q))
			m.Queue = &primitive.MessageQueue{Topic: topic, BrokerName: broker, QueueId: q}
			if _, err := p.SendSync(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
		owner := map[int]string{}
		waitFor(t, 60*time.Second, fmt.Sprintf("round %d consumed", round), func() bool {
			led.mu.Lock()
			defer led.mu.Unlock()
			for q := range 4 {
				if name, ok := led.by[fmt.Sprintf("r%d-q%d", round, q)]; ok {
					owner[q] = name
				}
			}
			return len(owner) == 4
		})
		return owner
	}
	queuesOf := func(owner map[int]string, name string) []int {
		var qs []int
		for q, n := range owner {
			if n == name {
				qs = append(qs, q)
			}
		}
		sort.Ints(qs)
		return qs
	}
	// untilStable probes until ok holds for two rounds in a row.
	untilStable := func(what string, ok func(map[int]string) bool) map[int]string {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		streak := 0
		for {
			owner := probe()
			if ok(owner) {
				if streak++; streak == 2 {
					return owner
				}
			} else {
				streak = 0
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: last assignment %v", what, owner)
			}
		}
	}

	a := newPushConsumer(t, ns, group)
	if err := a.Subscribe(topic, consumer.MessageSelector{}, led.handler("A")); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, a)
	untilStable("A alone owns every queue", func(o map[int]string) bool { return len(queuesOf(o, "A")) == 4 })
	commitOffsets(t, ns, group, topic, a)

	b := newPushConsumer(t, ns, group)
	if err := b.Subscribe(topic, consumer.MessageSelector{}, led.handler("B")); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, b)
	waitOwnedQueues(t, a, topic, 2)
	owner := untilStable("queues split between A and B", func(o map[int]string) bool {
		return len(queuesOf(o, "A")) == 2 && len(queuesOf(o, "B")) == 2
	})
	t.Logf("after B joined: A has %v, B has %v (round %d)", queuesOf(owner, "A"), queuesOf(owner, "B"), round)

	// A burst once the split is stable lands on both, exactly once.
	const burst = 100
	for i := range burst {
		if _, err := plain.SendSync(context.Background(), newMsg(topic, "burst", fmt.Sprintf("burst-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "the burst", func() bool {
		led.mu.Lock()
		defer led.mu.Unlock()
		n := 0
		for i := range burst {
			if _, ok := led.by[fmt.Sprintf("burst-%d", i)]; ok {
				n++
			}
		}
		return n == burst
	})
	split := map[string]int{}
	led.mu.Lock()
	for i := range burst {
		split[led.by[fmt.Sprintf("burst-%d", i)]]++
	}
	led.mu.Unlock()
	if split["A"] == 0 || split["B"] == 0 {
		t.Fatalf("burst not split between A and B: %v", split)
	}
	t.Logf("burst split %v", split)

	if err := a.Shutdown(); err != nil {
		t.Fatal(err)
	}
	untilStable("B alone owns every queue", func(o map[int]string) bool { return len(queuesOf(o, "B")) == 4 })
	commitOffsets(t, ns, group, topic, b)

	// A rejoins under a new instance.
	a2 := newPushConsumer(t, ns, group)
	if err := a2.Subscribe(topic, consumer.MessageSelector{}, led.handler("A2")); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, a2)
	waitOwnedQueues(t, b, topic, 2)
	untilStable("queues split between A2 and B", func(o map[int]string) bool {
		return len(queuesOf(o, "A2")) == 2 && len(queuesOf(o, "B")) == 2
	})

	// Leave one at a time, each after the survivor finished rebalancing:
	// a client shutting down while it handles NOTIFY_CONSUMER_IDS_CHANGED
	// races with itself (rmqClient.close, client.go:555 vs :576).
	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitOwnedQueues(t, a2, topic, 4)

	led.mu.Lock()
	defer led.mu.Unlock()
	if len(led.dups) > 0 {
		t.Fatalf("consumed more than once: %v", led.dups)
	}
	if want := 1 + burst + 4*round; len(led.by) != want {
		t.Fatalf("consumed %d distinct messages, sent %d", len(led.by), want)
	}
}

// waitOwnedQueues waits until the consumer holds exactly n queues of
// topic, as its running info tells (GetConsumerRunningInfo, an exported
// method of the client's push consumer whose result type lives in the
// client's internal package, hence reflection).
func waitOwnedQueues(t *testing.T, c any, topic string, n int) {
	t.Helper()
	m := reflect.ValueOf(c).MethodByName("GetConsumerRunningInfo")
	if !m.IsValid() {
		t.Fatalf("%T has no running info", c)
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("the consumer to hold %d queues", n), func() bool {
		info := m.Call([]reflect.Value{reflect.ValueOf(false)})[0]
		held := 0
		iter := info.Elem().FieldByName("MQTable").MapRange()
		for iter.Next() {
			if iter.Key().Interface().(primitive.MessageQueue).Topic == topic {
				held++
			}
		}
		return held == n
	})
}

// commitOffsets makes the consumer commit its offsets now (an exported
// method of the client's push consumer, which the PushConsumer interface
// does not list) and waits until the broker's committed offset of every
// queue of topic is the queue's end (QUERY_CONSUMER_OFFSET and
// GET_MAX_OFFSET, asked over the protocol so this works on any broker).
func commitOffsets(t *testing.T, ns, group, topic string, c any) {
	t.Helper()
	persister, ok := c.(interface{ PersistConsumerOffset() error })
	if !ok {
		t.Fatalf("%T cannot persist offsets", c)
	}
	conn := dial(t, brokerAddr(t, ns))
	waitFor(t, 30*time.Second, "committed offsets to reach the end of every queue", func() bool {
		if err := persister.PersistConsumerOffset(); err != nil {
			t.Fatal(err)
		}
		for q := range 4 {
			qs := fmt.Sprint(q)
			committed := invoke(t, conn, remoting.NewRequest(remoting.QueryConsumerOffset, "consumerGroup", group, "topic", topic, "queueId", qs))
			end := invoke(t, conn, remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", qs))
			if committed.Code != remoting.Success || committed.Get("offset") != end.Get("offset") {
				return false
			}
		}
		return true
	})
}

// TestRestartedConsumerResumes: a consumer that stops and a new one of the
// same group continue after the last committed offset (nothing seen twice,
// nothing skipped), although both start "from the first offset".
func TestRestartedConsumerResumes(t *testing.T) {
	ns, b := rmqtest.Start(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := p.SendSync(context.Background(), newMsg(topic, "x", fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 40)
	led := &ledger{by: map[string]string{}}
	first := newPushConsumer(t, ns, group)
	if err := first.Subscribe(topic, consumer.MessageSelector{}, led.handler("first")); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, first)
	waitFor(t, 60*time.Second, "the first 40 messages", func() bool {
		led.mu.Lock()
		defer led.mu.Unlock()
		return len(led.by) == 40
	})
	if err := first.Shutdown(); err != nil { // commits the offsets
		t.Fatal(err)
	}
	if b != nil {
		waitFor(t, 10*time.Second, "committed offsets to add up to 40", func() bool {
			sum := int64(0)
			for q := range 4 {
				off, _ := b.ConsumerOffset(group, topic, q)
				sum += off
			}
			return sum == 40
		})
	}

	send(40, 80)
	second := newPushConsumer(t, ns, group)
	if err := second.Subscribe(topic, consumer.MessageSelector{}, led.handler("second")); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, second)
	waitFor(t, 60*time.Second, "the next 40 messages", func() bool {
		led.mu.Lock()
		defer led.mu.Unlock()
		return len(led.by) == 80
	})
	led.mu.Lock()
	defer led.mu.Unlock()
	if len(led.dups) > 0 {
		t.Fatalf("redelivered after restart: %v", led.dups)
	}
	for i := 40; i < 80; i++ {
		if who := led.by[fmt.Sprint(i)]; who != "second" {
			t.Fatalf("message %d consumed by %q", i, who)
		}
	}
}
