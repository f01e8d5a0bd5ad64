package minirocketmq_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestConsumerProgress: the broker reports a group's progress per queue
// (broker offset, committed offset, lag) of the topics its live members
// subscribe, and after they left of the topics it committed offsets for.
func TestConsumerProgress(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("uses the embedded broker's Go API")
	}
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	const n = 20
	for i := range n {
		if _, err := p.SendSync(context.Background(), newMsg(topic, "x", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.ConsumerProgress(group); len(got) != 0 {
		t.Fatalf("progress of an unknown group: %+v", got)
	}
	col := newCollector()
	c := newPushConsumer(t, ns, group)
	if err := c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}, col.handle); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 30*time.Second, "every message", func() bool { return col.len() == n })
	// While the consumer is live, its topics (retry topic included) are
	// in the progress, not consumed as far as the broker knows yet.
	live := map[string]int{}
	for _, q := range b.ConsumerProgress(group) {
		live[q.Topic]++
	}
	if live[topic] != 4 || live[minirocketmq.RetryTopic(group)] != 1 {
		t.Errorf("progress of the live group covers %v", live)
	}

	// The client commits its offsets every 5 s from 10 s after its start,
	// and with every pull: one more message per queue makes it pull again,
	// and that pull commits everything before the new message.
	sel := newProducer(t, ns, producer.WithQueueSelector(producer.NewManualQueueSelector()))
	for q := range 4 {
		m := newMsg(topic, "marker", fmt.Sprint("marker-", q))
		m.Queue = &primitive.MessageQueue{Topic: topic, BrokerName: minirocketmq.DefaultBrokerName, QueueId: q}
		if _, err := sel.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	var progress []minirocketmq.QueueProgress
	caughtUp := func(q minirocketmq.QueueProgress) bool {
		return q.Committed && q.ConsumerOffset >= q.BrokerOffset-1 && q.ConsumerOffset <= q.BrokerOffset
	}
	waitFor(t, 30*time.Second, "the group's committed offsets to catch up", func() bool {
		progress = b.ConsumerProgress(group)
		n := 0
		for _, q := range progress {
			if q.Topic == topic && caughtUp(q) {
				n++
			}
		}
		return n == 4
	})
	var total int64
	queues := 0
	for _, q := range progress {
		if q.Topic != topic {
			continue
		}
		queues++
		total += q.BrokerOffset
		if q.Lag != q.BrokerOffset-q.ConsumerOffset || q.LastTimestamp == 0 {
			t.Errorf("queue %d: %+v", q.QueueID, q)
		}
	}
	if total != n+4 || queues != 4 {
		t.Errorf("progress covers %d queues with %d messages: %+v", queues, total, progress)
	}
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	// From the committed offsets alone now.
	after := 0
	for _, q := range b.ConsumerProgress(group) {
		if q.Topic == topic && caughtUp(q) {
			after++
		}
	}
	if after != 4 {
		t.Errorf("progress after the consumer left: %+v", b.ConsumerProgress(group))
	}
	// The same for admin tools (GET_CONSUME_STATS, fastjson's object keys
	// with their fields in its order, as 4.9.4 writes them; the client's
	// last commits may still be arriving).
	var q0 minirocketmq.QueueProgress
	for _, q := range b.ConsumerProgress(group) {
		if q.Topic == topic && q.QueueID == 0 {
			q0 = q
		}
	}
	stats := invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.GetConsumeStats, "consumerGroup", group, "topic", topic))
	if stats.Code != remoting.Success || strings.Count(string(stats.Body), `"brokerOffset"`) != 4 ||
		!strings.Contains(string(stats.Body), fmt.Sprintf(`{"brokerName":"broker-a","queueId":0,"topic":%q}:{"brokerOffset":%d,"consumerOffset":`, topic, q0.BrokerOffset)) {
		t.Errorf("consume stats: code %d %s", stats.Code, stats.Body)
	}
	groups := b.ConsumerGroups()
	found := false
	for _, g := range groups {
		found = found || g == group
	}
	if !found {
		t.Errorf("ConsumerGroups() = %v, without %s", groups, group)
	}
}

// TestConsumerRunningInfoRelay: GET_CONSUMER_RUNNING_INFO goes to the
// consumer's connection, through the Go API and relayed for an admin tool,
// and the answer in fastjson's dialect (a Java client's, object keys in
// mqTable, "droped") is decoded. The consumer is our remoting client
// (TestNoRaceConsumerRunningInfo does it with the Go client).
func TestConsumerRunningInfoRelay(t *testing.T) {
	b := minirocketmq.RunT(t)
	const javaInfo = `{"jstack":"","mqTable":{{"brokerName":"broker-a","queueId":1,"topic":"TopicJ"}:{"cachedMsgCount":2,` +
		`"commitOffset":7,"droped":true,"lastPullTimestamp":1700000000000,"locked":true},{"brokerName":"broker-a","queueId":0,` +
		`"topic":"TopicJ"}:{"commitOffset":3,"droped":false}},"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"},` +
		`"statusTable":{"TopicJ":{"consumeFailedMsgs":1,"consumeOKTPS":2.5,"consumeRT":1.0,"pullRT":0.5,"pullTPS":3.0}},` +
		`"subscriptionSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":9,"tagsSet":[],"topic":"TopicJ"}]}`
	var asked sync.Map
	consumerConn, err := remoting.Dial(ctxT(t, 5*time.Second), b.BrokerAddr(), func(c *remoting.Conn, req *remoting.Command) error {
		asked.Store(req.Get("clientId"), req.Get("consumerGroup"))
		resp := remoting.NewResponse(req, remoting.Success, "")
		resp.Body = []byte(javaInfo)
		return c.Send(resp)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = consumerConn.Close() })
	hb := remoting.NewRequest(remoting.HeartBeat)
	hb.Body = []byte(`{"clientID":"10.0.0.9@java","producerDataSet":[],"consumerDataSet":[{"groupName":"GroupJ","consumeType":"CONSUME_PASSIVELY",` +
		`"messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"topic":"TopicJ","subString":"*","subVersion":9}]}]}`)
	if resp := invoke(t, consumerConn, hb); resp.Code != remoting.Success {
		t.Fatalf("heartbeat: %d %s", resp.Code, resp.Remark)
	}

	info, err := b.ConsumerRunningInfo(ctxT(t, 10*time.Second), "GroupJ", "10.0.0.9@java")
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := asked.Load("10.0.0.9@java"); g != "GroupJ" {
		t.Errorf("the consumer was asked for group %v", g)
	}
	want := []minirocketmq.RunningQueue{
		{Topic: "TopicJ", BrokerName: "broker-a", QueueID: 0, CommitOffset: 3},
		{Topic: "TopicJ", BrokerName: "broker-a", QueueID: 1, CommitOffset: 7, CachedMsgCount: 2, Dropped: true, Locked: true, LastPullTimestamp: 1700000000000},
	}
	if fmt.Sprintf("%+v", info.Queues) != fmt.Sprintf("%+v", want) {
		t.Errorf("queues %+v\nwant %+v", info.Queues, want)
	}
	if info.Properties["PROP_CONSUME_TYPE"] != "CONSUME_PASSIVELY" || len(info.Subscriptions) != 1 || info.Subscriptions[0].SubVersion != 9 ||
		info.Status["TopicJ"].ConsumeOKTPS != 2.5 || info.Status["TopicJ"].ConsumeFailedMsgs != 1 || string(info.Raw) != javaInfo {
		t.Errorf("running info %+v", info)
	}

	// An admin tool's request is relayed, and the answer comes back as is.
	resp := invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.GetConsumerRunningInfo,
		"consumerGroup", "GroupJ", "clientId", "10.0.0.9@java", "jstackEnable", "false"))
	if resp.Code != remoting.Success || string(resp.Body) != javaInfo {
		t.Fatalf("relayed running info: code %d %s %s", resp.Code, resp.Remark, resp.Body)
	}
	resp = invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.GetConsumerRunningInfo,
		"consumerGroup", "GroupJ", "clientId", "10.0.0.1@nobody", "jstackEnable", "false"))
	if want := "The Consumer <GroupJ> <10.0.0.1@nobody> not online"; resp.Code != remoting.SystemError || resp.Remark != want {
		t.Errorf("running info of an unknown client: code %d %q", resp.Code, resp.Remark)
	}
	if _, err := b.ConsumerRunningInfo(context.Background(), "GroupJ", "10.0.0.1@nobody"); !errors.Is(err, minirocketmq.ErrConsumerNotOnline) {
		t.Errorf("running info of an unknown client: %v", err)
	}
	for _, bad := range []string{"", "[]", `{"mqTable":{{"topic":"x"}}}`, `{"mqTable":{"a":`, `{"properties":{"a":"b"}`} {
		if _, err := minirocketmq.ParseConsumerRunningInfo([]byte(bad)); err == nil {
			t.Errorf("ParseConsumerRunningInfo(%q) succeeded", bad)
		}
	}
}

// TestConsumeMessageDirectly: a dead letter handed back to its group's
// consumer with CONSUME_MESSAGE_DIRECTLY reaches the listener of its
// original topic, and the listener's verdict comes back, through the Go
// API and relayed for an admin tool.
func TestConsumeMessageDirectly(t *testing.T) {
	ns, b := rmqtest.Start(t, fastLevels())
	if b == nil {
		t.Skip("uses the embedded broker's Go API")
	}
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "poison", "p")); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		fixed bool // the handler's bug is fixed: it accepts now
		seen  []string
	)
	c := newPushConsumer(t, ns, group, consumer.WithMaxReconsumeTimes(1))
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			seen = append(seen, m.Topic+"/"+m.GetProperty("idx"))
		}
		if fixed {
			return consumer.ConsumeSuccess, nil
		}
		return consumer.ConsumeRetryLater, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	dlq := minirocketmq.DLQTopic(group)
	waitFor(t, 30*time.Second, "the dead letter", func() bool { return b.MaxOffset(dlq, 0) == 1 })
	dead, err := b.Messages(dlq, 0)
	if err != nil {
		t.Fatal(err)
	}
	deadID := offsetMsgID(t, b, dead[0].CommitLogOffset)
	mu.Lock()
	fixed, seen = true, nil
	mu.Unlock()

	id := b.ConsumerIDs(group)[0]
	res, err := b.ConsumeMessageDirectly(ctxT(t, 10*time.Second), group, id, deadID)
	if err != nil {
		t.Fatal(err)
	}
	if res.ConsumeResult != "CR_SUCCESS" {
		t.Errorf("consume directly: %+v", res)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0] != topic+"/p" {
		t.Errorf("listener saw %v, want the dead letter on %s", seen, topic)
	}
	fixed = false
	mu.Unlock()

	// The same through an admin tool: the broker reads the message and
	// relays; this time the listener asks to retry.
	resp := invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.ConsumeMessageDirectly,
		"consumerGroup", group, "clientId", id, "msgId", deadID))
	var relayed minirocketmq.ConsumeMessageDirectlyResult
	if resp.Code != remoting.Success || json.Unmarshal(resp.Body, &relayed) != nil || relayed.ConsumeResult != "CR_LATER" {
		t.Errorf("relayed consume directly: code %d %s %s", resp.Code, resp.Remark, resp.Body)
	}
	if _, err := b.ConsumeMessageDirectly(context.Background(), group, id, "not-an-id"); err == nil {
		t.Error("consume directly with a bad message id succeeded")
	}
}

func offsetMsgID(t testing.TB, b *minirocketmq.Broker, commitLogOffset int64) string {
	t.Helper()
	host, err := netip.ParseAddrPort(b.AdvertisedAddr())
	if err != nil {
		t.Fatal(err)
	}
	return message.OffsetMsgID(host, commitLogOffset)
}
