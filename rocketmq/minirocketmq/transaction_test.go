package minirocketmq_test

import (
	"context"
	"sync"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// txListener answers the producer's local transaction and check-back by
// the message's "tx" property: "commit", "rollback", "check-commit"
// (unknown at first, committed when checked) or "never" (unknown forever).
type txListener struct {
	mu     sync.Mutex
	checks map[string]int // tx → check-backs received
}

func newTxListener() *txListener { return &txListener{checks: make(map[string]int)} }

func (l *txListener) ExecuteLocalTransaction(m *primitive.Message) primitive.LocalTransactionState {
	switch m.GetProperty("tx") {
	case "commit":
		return primitive.CommitMessageState
	case "rollback":
		return primitive.RollbackMessageState
	}
	return primitive.UnkonwnState
}

func (l *txListener) CheckLocalTransaction(m *primitive.MessageExt) primitive.LocalTransactionState {
	l.mu.Lock()
	l.checks[m.GetProperty("tx")]++
	l.mu.Unlock()
	if m.GetProperty("tx") == "check-commit" {
		return primitive.CommitMessageState
	}
	return primitive.UnkonwnState
}

func (l *txListener) checked(tx string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checks[tx]
}

func newTxProducer(t testing.TB, ns, group string, l primitive.TransactionListener) rocketmq.TransactionProducer {
	t.Helper()
	p, err := rocketmq.NewTransactionProducer(l,
		producer.WithNameServer([]string{ns}),
		producer.WithGroupName(group),
		producer.WithInstanceName(instanceName(t)),
		producer.WithRetry(2))
	if err != nil {
		t.Fatalf("new transaction producer: %v", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("start transaction producer: %v", err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// sendTx sends one transactional message whose "tx" and "idx" properties
// are tx.
func sendTx(t testing.TB, p rocketmq.TransactionProducer, topic, tx string) *primitive.TransactionSendResult {
	t.Helper()
	m := primitive.NewMessage(topic, []byte("body-"+tx))
	m.WithProperty("tx", tx)
	m.WithProperty("idx", tx)
	m.WithKeys([]string{"key-" + tx})
	res, err := p.SendMessageInTransaction(context.Background(), m)
	if err != nil {
		t.Fatalf("send %s: %v", tx, err)
	}
	if res.Status != primitive.SendOK || !offsetMsgIDPattern.MatchString(res.OffsetMsgID) {
		t.Fatalf("send %s: status %v, offset msg id %q", tx, res.Status, res.OffsetMsgID)
	}
	return res
}

// TestTransactions: a committed message is delivered once, a rolled-back
// one never, and neither is checked back. (The check-back is tested in
// transaction_norace_test.go: the client races with itself there.)
func TestTransactions(t *testing.T) {
	ns, b := rmqtest.Start(t, minirocketmq.WithTransactionCheckInterval(300*time.Millisecond))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	l := newTxListener()
	p := newTxProducer(t, ns, rmqtest.Name(t, "PG"), l)
	sendTx(t, p, topic, "rollback")
	sendTx(t, p, topic, "commit")
	brokerNameOf(t, ns, topic) // a real broker routes an auto-created topic a moment later
	col := consume(t, ns, group, topic, consumer.MessageSelector{})
	waitFor(t, 60*time.Second, "the committed message", func() bool { return col.keys()["commit"] })
	if b != nil {
		// Both transactions are resolved, and the topic holds the
		// committed message only.
		waitFor(t, 10*time.Second, "no pending transaction", func() bool { return b.PendingTransactions() == 0 })
		stored := 0
		for q := range minirocketmq.DefaultQueueNums {
			msgs, err := b.Messages(topic, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if tx := message.ParseProperties(m.Properties)["tx"]; tx != "commit" {
					t.Errorf("topic holds a %q message", tx)
				}
			}
			stored += len(msgs)
		}
		if stored != 1 {
			t.Errorf("topic holds %d messages, want 1", stored)
		}
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	m := col.got["commit"]
	if string(m.Body) != "body-commit" || m.GetKeys() != "key-commit" || m.Topic != topic {
		t.Errorf("committed message: topic %s body %q keys %q", m.Topic, m.Body, m.GetKeys())
	}
	// The real broker delivers these too (it computes the stored
	// properties before it removes them); we remove them.
	for _, p := range []string{message.PropertyTransactionPrepared, message.PropertyRealTopic, message.PropertyRealQueueID} {
		if v := m.GetProperty(p); v != "" && b != nil {
			t.Errorf("delivered message still has %s=%q", p, v)
		}
	}
	if len(col.got) != 1 || col.dups != 0 {
		t.Errorf("consumed %v with %d duplicates, want the committed one once", col.keys(), col.dups)
	}
	if l.checked("commit")+l.checked("rollback") != 0 {
		t.Error("a resolved transaction was checked back")
	}
}
