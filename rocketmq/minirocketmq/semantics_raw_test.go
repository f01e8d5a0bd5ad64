package minirocketmq_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// Tests in this file speak the protocol with our remoting client, for what
// the Go client never sends (send-back without maxReconsumeTimes, a
// subscription group update) and to reach every background goroutine of
// the broker without the client's own goroutines in the way.

// sendV1 sends one message with SEND_MESSAGE and returns the commit-log
// offset of what was stored.
func sendV1(t *testing.T, conn *remoting.Conn, topic, body, props string, reconsumeTimes int) int64 {
	t.Helper()
	req := remoting.NewRequest(remoting.SendMessage,
		"producerGroup", "RawPG", "topic", topic, "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
		"queueId", "0", "sysFlag", "0", "bornTimestamp", fmt.Sprint(time.Now().UnixMilli()), "flag", "0",
		"properties", props, "reconsumeTimes", strconv.Itoa(reconsumeTimes))
	req.Body = []byte(body)
	resp := invoke(t, conn, req)
	if resp.Code != remoting.Success {
		t.Fatalf("send to %s: code %d %s", topic, resp.Code, resp.Remark)
	}
	_, off, err := message.ParseOffsetMsgID(resp.Get("msgId"))
	if err != nil {
		t.Fatal(err)
	}
	return off
}

func heartbeatConsumer(t *testing.T, conn *remoting.Conn, clientID, group string) {
	t.Helper()
	hb := remoting.NewRequest(remoting.HeartBeat)
	hb.Body = []byte(fmt.Sprintf(`{"clientID":%q,"producerDataSet":[],"consumerDataSet":[{"groupName":%q,"consumeType":"CONSUME_PASSIVELY",`+
		`"messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[]}]}`, clientID, group))
	if resp := invoke(t, conn, hb); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
}

// TestSendBackGroupRetryMaxTimes: a send-back without maxReconsumeTimes is
// limited by the group's retryMaxTimes, which
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP sets; with the header, the header
// wins. Unknown groups and offsets get the real broker's codes.
func TestSendBackGroupRetryMaxTimes(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("reads the embedded broker's queues")
	}
	b := minirocketmq.RunT(t, fastLevels())
	conn := dial(t, b.BrokerAddr())
	heartbeatConsumer(t, conn, "raw@1", "RawG")
	upd := remoting.NewRequest(remoting.UpdateAndCreateSubscriptionGroup)
	upd.Body = []byte(`{"groupName":"RawG","retryMaxTimes":1,"retryQueueNums":1}`)
	if resp := invoke(t, conn, upd); resp.Code != remoting.Success {
		t.Fatalf("update subscription group: %d %s", resp.Code, resp.Remark)
	}
	if gc, ok := b.SubscriptionGroup("RawG"); !ok || gc.RetryMaxTimes != 1 || !gc.NotifyConsumerIDsChangedEnable {
		t.Fatalf("group after the update: %+v", gc)
	}
	off := sendV1(t, conn, "RawT", "once retried", string(message.AppendProperty(nil, "k", "v")), 1)

	sendBack := func(group string, offset int64, extra ...string) *remoting.Command {
		kv := append([]string{"group", group, "offset", fmt.Sprint(offset), "delayLevel", "0", "originMsgId", "x", "originTopic", "RawT"}, extra...)
		return invoke(t, conn, remoting.NewRequest(remoting.ConsumerSendMsgBack, kv...))
	}
	// Reconsumed once, group limit 1: a dead letter.
	if resp := sendBack("RawG", off); resp.Code != remoting.Success {
		t.Fatalf("send back: %d %s", resp.Code, resp.Remark)
	}
	dlq := minirocketmq.DLQTopic("RawG")
	if n := b.MaxOffset(dlq, 0); n != 1 {
		t.Fatalf("%d dead letters, want 1", n)
	}
	// The client's own limit wins: a retry, after its back-off.
	if resp := sendBack("RawG", off, "maxReconsumeTimes", "5"); resp.Code != remoting.Success {
		t.Fatalf("send back: %d %s", resp.Code, resp.Remark)
	}
	retry := minirocketmq.RetryTopic("RawG")
	waitFor(t, 10*time.Second, "the retry", func() bool { return b.MaxOffset(retry, 0) == 1 })
	// delayLevel 0: the broker's back-off, level 3 + reconsume times (1).
	for q := range 18 {
		want := int64(0)
		if q == 3 {
			want = 1
		}
		if n := b.MaxOffset(minirocketmq.ScheduleTopic, q); n != want {
			t.Errorf("schedule queue of delay level %d holds %d message(s), want %d (level 4 = 3 + reconsume times 1)", q+1, n, want)
		}
	}
	msgs, err := b.Messages(retry, 0)
	if err != nil {
		t.Fatal(err)
	}
	props := message.ParseProperties(msgs[0].Properties)
	if msgs[0].ReconsumeTimes != 2 || props["k"] != "v" || props[message.PropertyRetryTopic] != "RawT" || string(msgs[0].Body) != "once retried" {
		t.Errorf("retried message: reconsume %d properties %v body %q", msgs[0].ReconsumeTimes, props, msgs[0].Body)
	}
	if resp := sendBack("NoSuchGroup", off); resp.Code != remoting.SubscriptionGroupNotExist {
		t.Errorf("send back for an unknown group: code %d %s", resp.Code, resp.Remark)
	}
	if resp := sendBack("RawG", 1<<40); resp.Code != remoting.SystemError || resp.Remark != fmt.Sprintf("look message by offset failed, %d", int64(1)<<40) {
		t.Errorf("send back of an unknown offset: code %d %q", resp.Code, resp.Remark)
	}
	upd.Body = []byte(`{"groupName":""}`)
	if resp := invoke(t, conn, upd); resp.Code != remoting.SystemError {
		t.Errorf("update of a nameless group: code %d", resp.Code)
	}
}

// TestNoGoroutinesAfterSemanticsClose: with a delayed message parked, a
// transaction pending, a lock waited for and a reply push waiting for its
// requester, Close still ends every goroutine of the broker.
func TestNoGoroutinesAfterSemanticsClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b, err := minirocketmq.Run(minirocketmq.WithLockExpiry(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := remoting.Dial(context.Background(), b.BrokerAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A requester that never answers the push of its reply.
	gotPush := make(chan struct{}, 1)
	requester, err := remoting.Dial(context.Background(), b.BrokerAddr(), func(_ *remoting.Conn, req *remoting.Command) error {
		if req.Code == remoting.PushReplyMessageToClient {
			gotPush <- struct{}{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer requester.Close()
	heartbeatConsumer(t, requester, "requester@1", "LeakG")

	sendV1(t, conn, "LeakT", "later", string(message.AppendProperty(nil, message.PropertyDelayTimeLevel, "3")), 0)
	half := message.AppendProperty(nil, message.PropertyTransactionPrepared, "true")
	half = message.AppendProperty(half, message.PropertyProducerGroup, "LeakPG")
	sendV1(t, conn, "LeakT", "undecided", string(half), 0)
	if b.PendingTransactions() != 1 {
		t.Fatalf("%d pending transactions", b.PendingTransactions())
	}
	lock := func(client string) {
		member, err := remoting.Dial(context.Background(), b.BrokerAddr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer member.Close()
		heartbeatConsumer(t, member, client, "LeakG") // only members lock
		req := remoting.NewRequest(remoting.LockBatchMQ)
		req.Body = []byte(fmt.Sprintf(`{"consumerGroup":"LeakG","clientId":%q,"mqSet":[{"topic":"LeakT","brokerName":"broker-a","queueId":0}]}`, client))
		if got := invoke(t, member, req); !strings.Contains(string(got.Body), "LeakT") && client == "a@1" {
			t.Fatalf("a@1 did not lock: %s", got.Body)
		}
	}
	lock("a@1")
	lock("b@1") // refused: waits for a@1's lock
	reply := message.AppendProperty(nil, message.PropertyMsgType, "reply")
	reply = message.AppendProperty(reply, message.PropertyReplyToClient, "requester@1")
	req := remoting.NewRequest(remoting.SendReplyMessage,
		"producerGroup", "RawPG", "topic", minirocketmq.DefaultClusterName+"_REPLY_TOPIC", "defaultTopic", "TBW102",
		"defaultTopicQueueNums", "4", "queueId", "0", "sysFlag", "0", "bornTimestamp", "0", "flag", "0",
		"properties", string(reply), "reconsumeTimes", "0")
	pushed := make(chan *remoting.Command, 1)
	go func() {
		resp, _ := conn.Invoke(context.Background(), req)
		pushed <- resp
	}()
	select {
	case <-gotPush: // the broker waits for an answer that never comes
	case <-time.After(10 * time.Second):
		t.Fatal("the reply was not pushed")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	<-pushed
	_ = conn.Close()
	_ = requester.Close()
}

// TestDataDirRestartSemantics: on a data directory, a delayed message still
// parked and an unresolved transaction survive a restart (the store holds
// them; the delay cursors are consumer offsets), a resolved transaction
// stays resolved, and the delayed message is delivered when its time comes.
func TestDataDirRestartSemantics(t *testing.T) {
	skipExternal(t)
	dir := t.TempDir()
	start := time.Now()
	open := func() (*minirocketmq.Broker, *minirocketmq.ManualClock) {
		clk := minirocketmq.NewManualClock(start)
		b := runBroker(t, minirocketmq.WithDataDir(dir), minirocketmq.WithClock(clk),
			minirocketmq.WithDelayLevels(10*time.Second), minirocketmq.WithTransactionCheckInterval(time.Hour))
		return b, clk
	}
	b1, _ := open()
	if err := b1.CreateTopic("RestartT", 1); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, b1.BrokerAddr())
	sendV1(t, conn, "RestartT", "delayed", string(message.AppendProperty(nil, message.PropertyDelayTimeLevel, "1")), 0)
	halfProps := func(id string) string {
		p := message.AppendProperty(nil, message.PropertyTransactionPrepared, "true")
		p = message.AppendProperty(p, message.PropertyProducerGroup, "RestartPG")
		return string(message.AppendProperty(p, "id", id))
	}
	sendV1(t, conn, "RestartT", "undecided", halfProps("undecided"), 0)
	req := remoting.NewRequest(remoting.SendMessage,
		"producerGroup", "RestartPG", "topic", "RestartT", "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
		"queueId", "0", "sysFlag", "4", "bornTimestamp", "0", "flag", "0", "properties", halfProps("committed"))
	req.Body = []byte("committed")
	resp := invoke(t, conn, req)
	_, clOff, err := message.ParseOffsetMsgID(resp.Get("msgId"))
	if resp.Code != remoting.Success || err != nil {
		t.Fatalf("half message: %d %s %v", resp.Code, resp.Remark, err)
	}
	end := remoting.NewRequest(remoting.EndTransaction, "producerGroup", "RestartPG",
		"tranStateTableOffset", resp.Get("queueOffset"), "commitLogOffset", fmt.Sprint(clOff), "commitOrRollback", "8",
		"fromTransactionCheck", "false", "msgId", "m")
	if r := invoke(t, conn, end); r.Code != remoting.Success {
		t.Fatalf("commit: %d %s", r.Code, r.Remark)
	}
	if b1.PendingTransactions() != 1 || b1.MaxOffset("RestartT", 0) != 1 {
		t.Fatalf("before the restart: %d pending, %d delivered", b1.PendingTransactions(), b1.MaxOffset("RestartT", 0))
	}
	_ = conn.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2, clk := open()
	if n := b2.PendingTransactions(); n != 1 {
		t.Fatalf("%d pending transactions after the restart, want 1", n)
	}
	if n := b2.MaxOffset("RestartT", 0); n != 1 {
		t.Fatalf("%d messages in the topic after the restart, want the committed one", n)
	}
	clk.Advance(11 * time.Second)
	waitFor(t, 10*time.Second, "the delayed message", func() bool { return b2.MaxOffset("RestartT", 0) == 2 })
	msgs, err := b2.Messages("RestartT", 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(msgs[0].Body) != "committed" || string(msgs[1].Body) != "delayed" {
		t.Errorf("topic holds %q, %q", msgs[0].Body, msgs[1].Body)
	}
}
