//go:build !race

// The client races with itself when it answers a transaction check-back:
// the goroutine that sends END_TRANSACTION reads rmqClient.close without
// synchronisation (internal/client.go InvokeOneWay) while Shutdown writes
// it, so every test in which a check-back is answered is reported by -race
// at the producer's Shutdown (client-quirks.md). These tests run in the
// non-race pass (make test: go test -run NoRace ./...).

package minirocketmq_test

import (
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestNoRaceTransactionCheckBack: a committed message is delivered once, a
// rolled-back one never; an unknown one is checked back and delivered once the
// producer's check says commit; one whose producer never decides is
// discarded after the maximum number of checks (embedded broker: on a
// real one that takes 15 check intervals of 60 s).
func TestNoRaceTransactionCheckBack(t *testing.T) {
	const checkMax = 2
	ns, b := rmqtest.Start(t,
		minirocketmq.WithTransactionCheckInterval(300*time.Millisecond),
		minirocketmq.WithTransactionCheckMax(checkMax))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	l := newTxListener()
	p := newTxProducer(t, ns, rmqtest.Name(t, "PG"), l)

	sendTx(t, p, topic, "commit")
	sendTx(t, p, topic, "rollback")
	sendTx(t, p, topic, "check-commit")
	if b != nil {
		sendTx(t, p, topic, "never")
	}
	brokerNameOf(t, ns, topic) // a real broker routes an auto-created topic a moment later
	col := consume(t, ns, group, topic, consumer.MessageSelector{})
	waitFor(t, 150*time.Second, "the committed and the checked-back message", func() bool {
		k := col.keys()
		return k["commit"] && k["check-commit"]
	})
	if n := l.checked("check-commit"); n != 1 {
		t.Errorf("check-commit was checked %d times, want 1", n)
	}
	if n := l.checked("commit") + l.checked("rollback"); n != 0 {
		t.Errorf("resolved transactions were checked %d times", n)
	}
	col.mu.Lock()
	m := col.got["check-commit"]
	if string(m.Body) != "body-check-commit" || m.GetKeys() != "key-check-commit" || m.Topic != topic {
		t.Errorf("checked-back message: topic %s body %q keys %q", m.Topic, m.Body, m.GetKeys())
	}
	// The real broker delivers these too (it computes the stored
	// properties before it removes them); we remove them.
	for _, p := range []string{message.PropertyTransactionPrepared, message.PropertyRealTopic, message.PropertyRealQueueID} {
		if v := m.GetProperty(p); v != "" && b != nil {
			t.Errorf("delivered message still has %s=%q", p, v)
		}
	}
	col.mu.Unlock()
	if b == nil {
		return
	}

	// The undecided one: checked checkMax times, then discarded.
	waitFor(t, 30*time.Second, "the undecided transaction to be discarded", func() bool {
		return b.PendingTransactions() == 0
	})
	if n := l.checked("never"); n != checkMax {
		t.Errorf("undecided transaction checked %d times, want %d", n, checkMax)
	}
	kept, err := b.Messages(minirocketmq.TransCheckMaxTopic, 0)
	if err != nil || len(kept) != 1 {
		t.Fatalf("%s holds %d messages (%v), want the discarded one", minirocketmq.TransCheckMaxTopic, len(kept), err)
	}
	if props := message.ParseProperties(kept[0].Properties); props["tx"] != "never" || props[message.PropertyRealTopic] != topic {
		t.Errorf("discarded message properties %v", props)
	}
	// Nothing else reached the topic: the consumer got exactly two, and
	// the queues hold exactly two.
	stored := 0
	for q := range minirocketmq.DefaultQueueNums {
		msgs, err := b.Messages(topic, q)
		if err != nil {
			t.Fatal(err)
		}
		stored += len(msgs)
	}
	if stored != 2 {
		t.Errorf("topic holds %d messages, want 2", stored)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.got) != 2 || col.dups != 0 {
		t.Errorf("consumed %v with %d duplicates, want commit and check-commit once", col.keys(), col.dups)
	}
}

// TestNoRaceTransactionInvisibleUntilCommit drives the check-back with a
// ManualClock: until the first check is due, the half message is nowhere a
// consumer could see it; one Advance past the transaction timeout makes the
// broker ask, the producer commits, and the message appears in its queue.
func TestNoRaceTransactionInvisibleUntilCommit(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs the embedded broker's clock")
	}
	clk := minirocketmq.NewManualClock(time.Now())
	b := minirocketmq.RunT(t, minirocketmq.WithClock(clk),
		minirocketmq.WithTransactionCheckInterval(time.Minute), minirocketmq.WithTransactionTimeout(10*time.Second))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	l := newTxListener()
	pg := rmqtest.Name(t, "PG")
	p := newTxProducer(t, b.Addr(), pg, l)
	res := sendTx(t, p, topic, "check-commit")
	if res.State != primitive.UnkonwnState {
		t.Fatalf("local transaction state %v", res.State)
	}
	if b.PendingTransactions() != 1 {
		t.Fatalf("%d pending transactions, want 1", b.PendingTransactions())
	}
	if n := b.MaxOffset(topic, 0); n != 0 {
		t.Fatalf("the half message is visible: %d messages in the topic", n)
	}
	// The producer must have sent its heartbeat (1 s after start) for the
	// broker to know whom to ask.
	waitFor(t, 10*time.Second, "the producer's heartbeat", func() bool {
		return len(b.ProducerIDs(pg)) > 0
	})
	clk.Advance(9 * time.Second)
	if l.checked("check-commit") != 0 {
		t.Fatal("checked before the transaction timeout")
	}
	clk.Advance(time.Second)
	waitFor(t, 10*time.Second, "the committed message in its queue", func() bool { return b.MaxOffset(topic, 0) == 1 })
	msgs, err := b.Messages(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].Properties; message.ParseProperties(got)["tx"] != "check-commit" {
		t.Fatalf("committed message properties %q", got)
	}
	if n := l.checked("check-commit"); n != 1 {
		t.Fatalf("checked %d times", n)
	}
	if b.PendingTransactions() != 0 {
		t.Fatalf("%d pending transactions after the commit", b.PendingTransactions())
	}
}
