package minirocketmq_test

import (
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

func txMsg(c *v5client, topic, body string) *v2.Message {
	return c.newMsg(topic, body, func(m *v2.Message) { m.SystemProperties.MessageType = v2.MessageType_TRANSACTION })
}

func (c *v5client) endTransaction(topic string, e *v2.SendResultEntry, r v2.TransactionResolution, src v2.TransactionSource) *v2.Status {
	c.t.Helper()
	resp, err := c.api.EndTransaction(c.ctx(5*time.Second), &v2.EndTransactionRequest{
		Topic: c.res(topic), MessageId: e.GetMessageId(), TransactionId: e.GetTransactionId(), Resolution: r, Source: src,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.GetStatus()
}

// TestGRPCTransactions: a transactional message is invisible until
// committed; a rollback drops it; the transaction is resolved once.
func TestGRPCTransactions(t *testing.T) {
	f := newV5Fixture(t, 1)
	if err := f.b.SetTopicMessageType(f.topic, minirocketmq.MessageTypeTransaction); err != nil {
		t.Fatal(err)
	}
	commit := f.prod.mustSend(txMsg(f.prod, f.topic, "commit me"))
	rollback := f.prod.mustSend(txMsg(f.prod, f.topic, "roll me back"))
	if commit.GetTransactionId() == "" || f.b.PendingTransactions() != 2 {
		t.Fatalf("send result %v, %d pending", commit, f.b.PendingTransactions())
	}
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatal("a half message was delivered")
	}
	wantCode(t, "commit", f.prod.endTransaction(f.topic, commit, v2.TransactionResolution_COMMIT, v2.TransactionSource_SOURCE_CLIENT), v2.Code_OK)
	wantCode(t, "rollback", f.prod.endTransaction(f.topic, rollback, v2.TransactionResolution_ROLLBACK, v2.TransactionSource_SOURCE_CLIENT), v2.Code_OK)
	msgs := f.cons.receive(f.group, f.topic)
	if len(msgs) != 1 || string(msgs[0].GetBody()) != "commit me" || msgs[0].GetSystemProperties().GetMessageId() != commit.GetMessageId() {
		t.Fatalf("after commit and rollback: %v", bodiesOf(msgs))
	}
	st := f.prod.endTransaction(f.topic, commit, v2.TransactionResolution_COMMIT, v2.TransactionSource_SOURCE_CLIENT)
	wantCode(t, "second commit", st, v2.Code_INTERNAL_SERVER_ERROR)
	if st.GetMessage() != "cannot found transaction data" {
		t.Fatalf("second commit: %q", st.GetMessage())
	}
	empty := &v2.SendResultEntry{MessageId: "x"}
	wantCode(t, "no transaction id", f.prod.endTransaction(f.topic, empty, v2.TransactionResolution_COMMIT, v2.TransactionSource_SOURCE_CLIENT), v2.Code_INVALID_TRANSACTION_ID)
	empty.TransactionId = "garbage"
	wantCode(t, "foreign transaction id", f.prod.endTransaction(f.topic, empty, v2.TransactionResolution_COMMIT, v2.TransactionSource_SOURCE_CLIENT), v2.Code_INVALID_TRANSACTION_ID)
	if f.b.PendingTransactions() != 0 {
		t.Fatalf("%d pending", f.b.PendingTransactions())
	}
}

// TestGRPCTransactionRecovery: an unresolved transaction is checked back
// through the Telemetry stream of a producer of the topic
// (RecoverOrphanedTransactionCommand); its EndTransaction (source
// SERVER_CHECK) commits it.
func TestGRPCTransactionRecovery(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	b := startV5(t, minirocketmq.WithClock(clk), minirocketmq.WithTransactionCheckInterval(time.Minute), minirocketmq.WithTransactionTimeout(6*time.Second))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.SetTopicMessageType(topic, minirocketmq.MessageTypeTransaction); err != nil {
		t.Fatal(err)
	}
	sender := dialV5(t, b)
	sender.producer(topic)
	sent := sender.mustSend(txMsg(sender, topic, "orphan"))
	// The sender goes away; another producer of the topic is there.
	if resp, err := sender.api.NotifyClientTermination(sender.ctx(5*time.Second), &v2.NotifyClientTerminationRequest{}); err != nil || resp.GetStatus().GetCode() != v2.Code_OK {
		t.Fatalf("terminate: %v %v", resp, err)
	}
	other := dialV5(t, b)
	tm := other.producer(topic)

	clk.Advance(6 * time.Second)
	cmd := tm.next(t)
	rec := cmd.GetRecoverOrphanedTransactionCommand()
	if rec == nil || rec.GetTransactionId() != sent.GetTransactionId() || string(rec.GetMessage().GetBody()) != "orphan" ||
		rec.GetMessage().GetTopic().GetName() != topic || rec.GetMessage().GetSystemProperties().GetMessageId() != sent.GetMessageId() {
		t.Fatalf("check command %v", cmd)
	}
	back := &v2.SendResultEntry{MessageId: rec.GetMessage().GetSystemProperties().GetMessageId(), TransactionId: rec.GetTransactionId()}
	wantCode(t, "commit from the check", other.endTransaction(topic, back, v2.TransactionResolution_COMMIT, v2.TransactionSource_SOURCE_SERVER_CHECK), v2.Code_OK)
	cons := dialV5(t, b)
	cons.consumer(group, topic)
	if msgs := cons.receive(group, topic); len(msgs) != 1 || string(msgs[0].GetBody()) != "orphan" {
		t.Fatalf("after the check: %v", bodiesOf(msgs))
	}
}
