package minirocketmq_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

type rawMQ struct {
	Topic      string `json:"topic"`
	BrokerName string `json:"brokerName"`
	QueueID    int    `json:"queueId"`
}

// lockReq builds a LOCK_BATCH_MQ or UNLOCK_BATCH_MQ request as the clients
// send it.
func lockReq(t *testing.T, code int16, group, clientID, topic, broker string, queues ...int) *remoting.Command {
	t.Helper()
	body := struct {
		ConsumerGroup string  `json:"consumerGroup"`
		ClientID      string  `json:"clientId"`
		MQSet         []rawMQ `json:"mqSet"`
	}{ConsumerGroup: group, ClientID: clientID}
	for _, q := range queues {
		body.MQSet = append(body.MQSet, rawMQ{topic, broker, q})
	}
	req := remoting.NewRequest(code)
	var err error
	if req.Body, err = json.Marshal(body); err != nil {
		t.Fatal(err)
	}
	return req
}

func lockedQueues(t *testing.T, resp *remoting.Command) []int {
	t.Helper()
	if resp.Code != remoting.Success {
		t.Fatalf("lock: code %d %s", resp.Code, resp.Remark)
	}
	var out struct {
		LockOKMQSet []rawMQ `json:"lockOKMQSet"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatalf("lock answer %s: %v", resp.Body, err)
	}
	qs := []int{}
	for _, mq := range out.LockOKMQSet {
		qs = append(qs, mq.QueueID)
	}
	sort.Ints(qs)
	return qs
}

// TestLockBatchMQ: a queue is locked by one client of a group at a time;
// its holder renews and unlocks it; another group locks independently; a
// client waiting for a queue is told to rebalance
// (NOTIFY_CONSUMER_IDS_CHANGED) when its holder unlocks it or the lock
// expires (embedded broker).
func TestLockBatchMQ(t *testing.T) {
	ns, b := rmqtest.Start(t, minirocketmq.WithLockExpiry(300*time.Millisecond))
	broker := brokerAddr(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if b != nil {
		if err := b.CreateTopic(topic, 4); err != nil {
			t.Fatal(err)
		}
	}
	name := minirocketmq.DefaultBrokerName
	notified := make(chan string, 16)
	a := dial(t, broker)
	bc, err := remoting.Dial(ctxT(t, 5*time.Second), broker, func(_ *remoting.Conn, req *remoting.Command) error {
		if req.Code == remoting.NotifyConsumerIDsChanged {
			notified <- req.Get("consumerGroup")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bc.Close() })
	// B is a member of the group, so it hears about changes.
	hb := remoting.NewRequest(remoting.HeartBeat)
	hb.Body = []byte(fmt.Sprintf(`{"clientID":"lock@b","producerDataSet":[],"consumerDataSet":[{"groupName":%q,"consumeType":"CONSUME_PASSIVELY",`+
		`"messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[]}]}`, group))
	if resp := invoke(t, bc, hb); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
	// A is a member of the group and of another one (only members lock).
	hb = remoting.NewRequest(remoting.HeartBeat)
	hb.Body = []byte(fmt.Sprintf(`{"clientID":"lock@a","producerDataSet":[],"consumerDataSet":[`+
		`{"groupName":%q,"consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[]},`+
		`{"groupName":%q,"consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[]}]}`, group, "Other"+group))
	if resp := invoke(t, a, hb); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}
	drain := func() {
		for {
			select {
			case <-notified:
			default:
				return
			}
		}
	}

	if got := lockedQueues(t, invoke(t, a, lockReq(t, remoting.LockBatchMQ, group, "lock@a", topic, name, 0, 1))); fmt.Sprint(got) != "[0 1]" {
		t.Fatalf("A locked %v", got)
	}
	if got := lockedQueues(t, invoke(t, bc, lockReq(t, remoting.LockBatchMQ, group, "lock@b", topic, name, 1, 2))); fmt.Sprint(got) != "[2]" {
		t.Fatalf("B locked %v, want [2]", got)
	}
	if got := lockedQueues(t, invoke(t, a, lockReq(t, remoting.LockBatchMQ, group, "lock@a", topic, name, 0, 1, 2))); fmt.Sprint(got) != "[0 1]" {
		t.Fatalf("A renewed %v, want [0 1]", got)
	}
	if got := lockedQueues(t, invoke(t, a, lockReq(t, remoting.LockBatchMQ, "Other"+group, "lock@a", topic, name, 2))); fmt.Sprint(got) != "[2]" {
		t.Fatalf("another group locked %v", got)
	}
	if b != nil && b.QueueLockOwner(group, topic, 1) != "lock@a" {
		t.Fatalf("owner of queue 1: %q", b.QueueLockOwner(group, topic, 1))
	}
	drain()
	// A unlocks queue 1, which B was refused: B hears about it and gets it.
	if resp := invoke(t, a, lockReq(t, remoting.UnlockBatchMQ, group, "lock@a", topic, name, 1)); resp.Code != remoting.Success {
		t.Fatalf("unlock: %d %s", resp.Code, resp.Remark)
	}
	if b != nil {
		select {
		case g := <-notified:
			if g != group {
				t.Fatalf("notified for %s", g)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("B was not told that queue 1 is free")
		}
	}
	if got := lockedQueues(t, invoke(t, bc, lockReq(t, remoting.LockBatchMQ, group, "lock@b", topic, name, 1))); fmt.Sprint(got) != "[1]" {
		t.Fatalf("B locked %v after the unlock", got)
	}
	// Unlocking what one does not hold changes nothing.
	invoke(t, a, lockReq(t, remoting.UnlockBatchMQ, group, "lock@a", topic, name, 1))
	if got := lockedQueues(t, invoke(t, a, lockReq(t, remoting.LockBatchMQ, group, "lock@a", topic, name, 1))); len(got) != 0 {
		t.Fatalf("A took queue 1 from B: %v", got)
	}
	if b == nil {
		return // the real broker's locks last 60 s
	}
	// A stops renewing queue 0; B, refused, is told when the lock expires.
	drain()
	if got := lockedQueues(t, invoke(t, bc, lockReq(t, remoting.LockBatchMQ, group, "lock@b", topic, name, 0))); len(got) != 0 {
		t.Fatalf("B locked %v while A holds it", got)
	}
	// B retries on each notification, as a client rebalances on each; the
	// one for queue 0 comes when A's lock expires (others may come first:
	// A was refused queue 1, whose holder B does not renew either).
	deadline := time.After(10 * time.Second)
	for locked := false; !locked; {
		select {
		case <-notified:
			got := lockedQueues(t, invoke(t, bc, lockReq(t, remoting.LockBatchMQ, group, "lock@b", topic, name, 0)))
			locked = fmt.Sprint(got) == "[0]"
		case <-deadline:
			t.Fatal("B was not told that A's lock on queue 0 expired")
		}
	}
	if resp := invoke(t, a, remoting.NewRequest(remoting.LockBatchMQ)); resp.Code != remoting.SystemError {
		t.Fatalf("lock without a body: code %d", resp.Code)
	}
}
