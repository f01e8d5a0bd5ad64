package minirocketmq_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestHTTPPublishConsumeAck: a message published over HTTP comes back to a
// consumer with its body, tag, keys, properties and id; an ack removes it.
func TestHTTPPublishConsumeAck(t *testing.T) {
	b := startHTTP(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	body := `{"id":42,"note":"<&>\"quoted\"\r\nline"}`
	res := c.publish(topic, pubMsg{Body: body, Tag: "created", Properties: "KEYS:order-42|tenant:acme|"})
	if len(res.MessageID) != 32 || res.MessageBodyMD5 == "" || res.ReceiptHandle != "" {
		t.Fatalf("publish answer %+v", res)
	}
	msgs := c.messages(c.consume(topic, group, "numOfMessages", "16", "waitseconds", "3"))
	if len(msgs) != 1 {
		t.Fatalf("consumed %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	p := m.props()
	switch {
	case m.MessageID != res.MessageID:
		t.Errorf("message id %q, published %q", m.MessageID, res.MessageID)
	case m.MessageBody != body:
		t.Errorf("body %q, want %q", m.MessageBody, body)
	case m.MessageBodyMD5 != res.MessageBodyMD5:
		t.Errorf("body MD5 %s, publish said %s", m.MessageBodyMD5, res.MessageBodyMD5)
	case m.MessageTag != "created" || p["KEYS"] != "order-42" || p["tenant"] != "acme":
		t.Errorf("tag %q properties %q", m.MessageTag, m.Properties)
	case m.ConsumedTimes != 1 || m.FirstConsumeTime == 0 || m.NextConsumeTime <= m.FirstConsumeTime || m.PublishTime == 0:
		t.Errorf("times %+v", m)
	case strings.Contains(m.Properties, "UNIQ_KEY") || strings.Contains(m.Properties, "CLUSTER"):
		t.Errorf("system properties leak: %q", m.Properties)
	}
	if r := c.ack(topic, group, "", m.ReceiptHandle); r.status != http.StatusNoContent {
		t.Fatalf("ack: %d %s", r.status, r.body)
	}
	if again := c.messages(c.consume(topic, group)); len(again) != 0 {
		t.Fatalf("acked message consumed again: %+v", again)
	}
	if off, _ := b.ConsumerOffset(group, topic, 0); off < 0 {
		t.Errorf("offset %d", off)
	}
}

// TestHTTPLongPollAnsweredOnArrival: a consume waiting for messages is
// answered with a message published while it waits (without the wake-up it
// would end its wait empty-handed: MessageNotExist).
func TestHTTPLongPollAnsweredOnArrival(t *testing.T) {
	b := startHTTP(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	got := make(chan httpResp, 1)
	go func() { got <- c.consume(topic, group, "waitseconds", "10") }()
	waitFor(t, 10*time.Second, "the consume to wait", func() bool { return b.PopWaiting(topic) })
	start := time.Now()
	c.publish(topic, pubMsg{Body: "late"})
	r := <-got
	msgs := c.messages(r)
	if len(msgs) != 1 || msgs[0].MessageBody != "late" {
		t.Fatalf("waiting consume got %d %s after %v", r.status, r.body, time.Since(start))
	}
}

// TestHTTPAckAfterExpiry: a message not acked within its invisible time
// comes again with ConsumedTimes 2; the first delivery's handle is then
// expired (ReceiptHandleError), the second's works; a handle that is not
// ours is invalid.
func TestHTTPAckAfterExpiry(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	b := startHTTP(t, minirocketmq.WithClock(clk), minirocketmq.WithHTTPInvisibleDuration(30*time.Second))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	c.publish(topic, pubMsg{Body: "once"})
	first := c.messages(c.consume(topic, group))
	if len(first) != 1 || first[0].NextConsumeTime-first[0].FirstConsumeTime != 30000 {
		t.Fatalf("first delivery %+v", first)
	}
	if again := c.messages(c.consume(topic, group)); len(again) != 0 {
		t.Fatalf("invisible message delivered again: %+v", again)
	}
	clk.Advance(31 * time.Second)
	second := c.messages(c.consume(topic, group))
	if len(second) != 1 || second[0].ConsumedTimes != 2 || second[0].MessageID != first[0].MessageID ||
		second[0].FirstConsumeTime != first[0].FirstConsumeTime {
		t.Fatalf("redelivery %+v (first %+v)", second, first)
	}
	r := c.ack(topic, group, "", first[0].ReceiptHandle, "not a handle", second[0].ReceiptHandle)
	if r.status != http.StatusNotFound {
		t.Fatalf("ack with stale handles: %d %s", r.status, r.body)
	}
	errs := ackErrors(t, r)
	if errs[first[0].ReceiptHandle] != "ReceiptHandleError" || errs["not a handle"] != "ReceiptHandleError" || len(errs) != 2 {
		t.Fatalf("ack errors %v", errs)
	}
	if again := c.messages(c.consume(topic, group)); len(again) != 0 {
		t.Fatalf("the second delivery was not acked: %+v", again)
	}
}

// TestHTTPConsumedTimesToDLQ: after the group's retryMaxTimes + 1
// deliveries without an ack, the message goes to %DLQ%<group>.
func TestHTTPConsumedTimesToDLQ(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	b := startHTTP(t, minirocketmq.WithClock(clk), minirocketmq.WithHTTPInvisibleDuration(10*time.Second))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: group, ConsumeEnable: true, RetryMaxTimes: 2, RetryQueueNums: 1}); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	dlq := minirocketmq.DLQTopic(group)
	// Before its first dead letter the dead-letter topic is consumable (empty), not created.
	if r := c.consume(dlq, rmqtest.Name(t, "GID_early")); r.code() != "MessageNotExist" {
		t.Fatalf("consume of the dead-letter topic before it exists: %d %s", r.status, r.body)
	}
	if _, ok := b.Topic(dlq); ok {
		t.Fatal("consuming the dead-letter topic created it")
	}
	c.publish(topic, pubMsg{Body: "poison", Properties: "KEYS:p-1|"})
	for attempt := 1; attempt <= 3; attempt++ {
		msgs := c.messages(c.consume(topic, group))
		if len(msgs) != 1 || msgs[0].ConsumedTimes != attempt {
			t.Fatalf("attempt %d: %+v", attempt, msgs)
		}
		clk.Advance(11 * time.Second)
	}
	if msgs := c.messages(c.consume(topic, group)); len(msgs) != 0 {
		t.Fatalf("delivered after its last attempt: %+v", msgs)
	}
	waitFor(t, 10*time.Second, "the dead letter", func() bool {
		ms, _ := b.Messages(dlq, 0)
		return len(ms) == 1
	})
	// The dead-letter topic is consumable over HTTP, with where it came from.
	dead := c.messages(c.consume(dlq, rmqtest.Name(t, "GID_DLQ")))
	if len(dead) != 1 || dead[0].MessageBody != "poison" || dead[0].props()["DLQ_ORIGIN_TOPIC"] != topic || dead[0].props()["KEYS"] != "p-1" {
		t.Fatalf("dead letter %+v", dead)
	}
}

// TestHTTPOrderly: trans=order hands out a sharding key's messages in
// order, several in one batch; the key gets nothing more until the whole
// batch is acked or expired, and an unacked one comes again before
// anything younger.
func TestHTTPOrderly(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	b := startHTTP(t, minirocketmq.WithClock(clk), minirocketmq.WithHTTPInvisibleDuration(10*time.Second))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	for i := range 3 {
		c.publish(topic, pubMsg{Body: "a" + strconv.Itoa(i), Properties: "__SHARDINGKEY:order-a|"})
	}
	c.publish(topic, pubMsg{Body: "b0", Properties: "__SHARDINGKEY:order-b|"})
	ordered := func() []gotMsg { return c.messages(c.consume(topic, group, "numOfMessages", "16", "trans", "order")) }
	keyA := func(ms []gotMsg) (bodies []string) {
		for _, m := range ms {
			if m.MessageBody[0] == 'a' {
				bodies = append(bodies, m.MessageBody)
			}
		}
		return bodies
	}
	first := ordered()
	if len(first) != 4 || strings.Join(keyA(first), ",") != "a0,a1,a2" {
		t.Fatalf("first orderly batch %+v, want a0, a1, a2 in order and b0", first)
	}
	if more := ordered(); len(more) != 0 {
		t.Fatalf("a second batch of a key while one is in flight: %+v", more)
	}
	var a1 gotMsg
	for _, m := range first {
		if m.MessageBody == "a1" {
			a1 = m
			continue
		}
		if r := c.ack(topic, group, "", m.ReceiptHandle); r.status != http.StatusNoContent {
			t.Fatalf("ack: %d %s", r.status, r.body)
		}
	}
	c.publish(topic, pubMsg{Body: "a3", Properties: "__SHARDINGKEY:order-a|"})
	if more := ordered(); len(more) != 0 {
		t.Fatalf("key a's next batch while a1 is in flight: %+v", more)
	}
	clk.Advance(11 * time.Second) // a1 not acked: it comes again before a3
	redo := ordered()
	if len(redo) != 2 || redo[0].MessageBody != "a1" || redo[0].ConsumedTimes != 2 || redo[1].MessageBody != "a3" {
		t.Fatalf("after expiry %+v, want a1 (consumed twice) then a3", redo)
	}
	if r := c.ack(topic, group, "", a1.ReceiptHandle); r.status == http.StatusNoContent {
		t.Fatal("ack of a1's expired delivery succeeded")
	}
	if r := c.ack(topic, group, "", redo[0].ReceiptHandle, redo[1].ReceiptHandle); r.status != http.StatusNoContent {
		t.Fatalf("ack: %d %s", r.status, r.body)
	}
}

// TestHTTPTagFilter: tag=a||b takes those tags only.
func TestHTTPTagFilter(t *testing.T) {
	b := startHTTP(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "GID")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(t, b)
	for _, tag := range []string{"a", "b", "c", ""} {
		c.publish(topic, pubMsg{Body: "tag " + tag, Tag: tag})
	}
	got := map[string]bool{}
	for _, m := range c.messages(c.consume(topic, group, "tag", "a||b")) {
		got[m.MessageTag] = true
	}
	if len(got) != 2 || !got["a"] || !got["b"] {
		t.Fatalf("tags consumed %v, want a and b", got)
	}
}
