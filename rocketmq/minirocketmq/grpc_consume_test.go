package minirocketmq_test

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/producer"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// v5fixture is a broker on a manual clock with a topic, a producer and a
// simple consumer of one group.
type v5fixture struct {
	b            *minirocketmq.Broker
	clk          *minirocketmq.ManualClock
	topic, group string
	prod, cons   *v5client
}

func newV5Fixture(t *testing.T, queues int, opts ...minirocketmq.Option) *v5fixture {
	t.Helper()
	clk := minirocketmq.NewManualClock(time.Now())
	f := &v5fixture{clk: clk, topic: rmqtest.Name(t, "T"), group: rmqtest.Name(t, "G")}
	f.b = startV5(t, append([]minirocketmq.Option{minirocketmq.WithClock(clk), minirocketmq.WithGRPCLongPolling(100*time.Millisecond, 2*time.Second)}, opts...)...)
	if err := f.b.CreateTopic(f.topic, queues); err != nil {
		t.Fatal(err)
	}
	f.prod, f.cons = dialV5(t, f.b), dialV5(t, f.b)
	f.prod.producer(f.topic)
	f.cons.consumer(f.group, f.topic)
	return f
}

// TestGRPCSendReceiveAck: what a producer sends is what a consumer gets
// (body, tag, keys, properties, id, digest), once; an ack consumes it.
func TestGRPCSendReceiveAck(t *testing.T) {
	f := newV5Fixture(t, 2)
	tag := "tagA"
	var ids []string
	for i, body := range []string{"one", "two", "three"} {
		m := f.prod.newMsg(f.topic, body, func(m *v2.Message) {
			m.SystemProperties.Tag = &tag
			m.SystemProperties.Keys = []string{"k1", "k2"}
			m.UserProperties = map[string]string{"color": "red"}
		})
		if i == 1 {
			other := "tagB"
			m.SystemProperties.Tag = &other
		}
		e := f.prod.mustSend(m)
		if e.GetMessageId() != m.GetSystemProperties().GetMessageId() || e.GetTransactionId() != "" {
			t.Fatalf("send result %v", e)
		}
		ids = append(ids, e.GetMessageId())
	}
	req := f.cons.receiveReq(f.group, f.topic)
	req.FilterExpression = &v2.FilterExpression{Type: v2.FilterType_TAG, Expression: "tagA"}
	r := f.cons.receiveWith(req, 10*time.Second)
	wantCode(t, "receive", r.status, v2.Code_OK)
	if !r.delivered || len(r.msgs) != 2 {
		t.Fatalf("received %v (delivery timestamp %t), want one and three", bodiesOf(r.msgs), r.delivered)
	}
	got := map[string]*v2.Message{}
	for _, m := range r.msgs {
		got[string(m.GetBody())] = m
	}
	m := got["one"]
	sp := m.GetSystemProperties()
	sum := md5.Sum([]byte("one"))
	switch {
	case m.GetTopic().GetName() != f.topic:
		t.Fatalf("topic %v", m.GetTopic())
	case sp.GetMessageId() != ids[0] || sp.GetTag() != "tagA" || strings.Join(sp.GetKeys(), ",") != "k1,k2":
		t.Fatalf("system properties %v", sp)
	case m.GetUserProperties()["color"] != "red" || len(m.GetUserProperties()) != 1:
		t.Fatalf("user properties %v", m.GetUserProperties())
	case sp.GetDeliveryAttempt() != 1 || sp.GetReceiptHandle() == "" || sp.GetMessageType() != v2.MessageType_NORMAL:
		t.Fatalf("delivery %v", sp)
	case sp.GetBodyDigest().GetChecksum() != strings.ToUpper(hex.EncodeToString(sum[:])) || sp.GetBodyEncoding() != v2.Encoding_IDENTITY:
		t.Fatalf("digest %v encoding %v", sp.GetBodyDigest(), sp.GetBodyEncoding())
	case sp.GetBornHost() != "test-host" || sp.GetStoreTimestamp() == nil || sp.GetQueueOffset() < 0:
		t.Fatalf("hosts and offsets %v", sp)
	}
	wantCode(t, "ack", f.cons.ack(f.group, f.topic, r.msgs...).GetStatus(), v2.Code_OK)
	resp := f.cons.ack(f.group, f.topic, r.msgs[0])
	wantCode(t, "second ack", resp.GetStatus(), v2.Code_INVALID_RECEIPT_HANDLE)
	if msg := resp.GetEntries()[0].GetStatus().GetMessage(); msg != "receipt handle is expired" {
		t.Fatalf("second ack message %q", msg)
	}
	f.clk.Advance(time.Minute)
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatalf("after the acks: %v", bodiesOf(msgs))
	}
	// The filtered-out message is consumed for the group, as a pull would.
	if stats := f.b.PopStats(f.group, f.topic); stats.InFlight != 0 || stats.Ready != 0 {
		t.Fatalf("pop stats %+v", stats)
	}
}

// TestGRPCRedelivery: a message not acknowledged within its invisible
// duration comes back with delivery_attempt + 1; ChangeInvisibleDuration
// moves that time and replaces the handle; 0 gives the message back.
func TestGRPCRedelivery(t *testing.T) {
	f := newV5Fixture(t, 1)
	sent := f.prod.mustSend(f.prod.newMsg(f.topic, "m"))
	first := f.cons.receive(f.group, f.topic)
	if len(first) != 1 {
		t.Fatalf("first receive: %v", bodiesOf(first))
	}
	f.clk.Advance(9 * time.Second)
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatal("redelivered before the invisible duration passed")
	}
	f.clk.Advance(time.Second)
	second := f.cons.receive(f.group, f.topic)
	if len(second) != 1 || second[0].GetSystemProperties().GetDeliveryAttempt() != 2 || second[0].GetSystemProperties().GetMessageId() != sent.GetMessageId() {
		t.Fatalf("redelivery: %v", second)
	}
	wantCode(t, "ack with the expired handle", f.cons.ack(f.group, f.topic, first...).GetStatus(), v2.Code_INVALID_RECEIPT_HANDLE)

	change := func(m *v2.Message, d time.Duration) *v2.ChangeInvisibleDurationResponse {
		t.Helper()
		resp, err := f.cons.api.ChangeInvisibleDuration(f.cons.ctx(5*time.Second), &v2.ChangeInvisibleDurationRequest{
			Group: f.cons.res(f.group), Topic: f.cons.res(f.topic), ReceiptHandle: m.GetSystemProperties().GetReceiptHandle(),
			InvisibleDuration: durationpb.New(d), MessageId: m.GetSystemProperties().GetMessageId(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := change(second[0], time.Minute)
	wantCode(t, "change", resp.GetStatus(), v2.Code_OK)
	if resp.GetReceiptHandle() == "" || resp.GetReceiptHandle() == second[0].GetSystemProperties().GetReceiptHandle() {
		t.Fatalf("new handle %q", resp.GetReceiptHandle())
	}
	f.clk.Advance(30 * time.Second)
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatal("redelivered before the changed invisible duration passed")
	}
	second[0].SystemProperties.ReceiptHandle = &resp.ReceiptHandle
	wantCode(t, "nack", change(second[0], 0).GetStatus(), v2.Code_OK)
	third := f.cons.receive(f.group, f.topic)
	if len(third) != 1 || third[0].GetSystemProperties().GetDeliveryAttempt() != 3 {
		t.Fatalf("after the nack: %v", third)
	}
	wantCode(t, "change of a stale handle", change(second[0], time.Minute).GetStatus(), v2.Code_INVALID_RECEIPT_HANDLE)
	wantCode(t, "too long", change(third[0], 13*time.Hour).GetStatus(), v2.Code_ILLEGAL_INVISIBLE_TIME)
	wantCode(t, "ack", f.cons.ack(f.group, f.topic, third...).GetStatus(), v2.Code_OK)
}

// TestGRPCDeadLetter: after the group's last delivery attempt (retryMaxTimes
// + 1) expires, the message is in %DLQ%<group>, which a gRPC consumer reads
// with dead_letter_queue set; ForwardMessageToDeadLetterQueue moves one at
// once.
func TestGRPCDeadLetter(t *testing.T) {
	f := newV5Fixture(t, 1)
	if err := f.b.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: f.group, RetryMaxTimes: 1, RetryQueueNums: 1}); err != nil {
		t.Fatal(err)
	}
	sent := f.prod.mustSend(f.prod.newMsg(f.topic, "poison"))
	for attempt := int32(1); attempt <= 2; attempt++ {
		msgs := f.cons.receive(f.group, f.topic)
		if len(msgs) != 1 || msgs[0].GetSystemProperties().GetDeliveryAttempt() != attempt {
			t.Fatalf("attempt %d: %v", attempt, msgs)
		}
		f.clk.Advance(10 * time.Second)
	}
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatalf("delivered after the last attempt: %v", msgs)
	}
	dlq := "%DLQ%" + f.group
	waitFor(t, 5*time.Second, "the dead letter", func() bool {
		ms, _ := f.b.Messages(dlq, 0)
		return len(ms) == 1
	})
	reader := dialV5(t, f.b)
	reader.consumer(rmqtest.Name(t, "R"), dlq)
	dead := reader.receive(rmqtest.Name(t, "R"), dlq)
	if len(dead) != 1 {
		t.Fatalf("dead-letter queue: %v", dead)
	}
	if d := dead[0].GetSystemProperties().GetDeadLetterQueue(); d.GetTopic() != f.topic || d.GetMessageId() != sent.GetMessageId() || string(dead[0].GetBody()) != "poison" {
		t.Fatalf("dead letter %v", dead[0])
	}

	f.prod.mustSend(f.prod.newMsg(f.topic, "give up"))
	m := f.cons.receive(f.group, f.topic)
	if len(m) != 1 {
		t.Fatalf("receive: %v", m)
	}
	resp, err := f.cons.api.ForwardMessageToDeadLetterQueue(f.cons.ctx(5*time.Second), &v2.ForwardMessageToDeadLetterQueueRequest{
		Group: f.cons.res(f.group), Topic: f.cons.res(f.topic), ReceiptHandle: m[0].GetSystemProperties().GetReceiptHandle(),
		MessageId: m[0].GetSystemProperties().GetMessageId(), DeliveryAttempt: 1, MaxDeliveryAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "forward", resp.GetStatus(), v2.Code_OK)
	ms, _ := f.b.Messages(dlq, 0)
	if len(ms) != 2 || string(ms[1].Body) != "give up" {
		t.Fatalf("dead-letter queue after the forward: %d messages", len(ms))
	}
	wantCode(t, "ack of a forwarded message", f.cons.ack(f.group, f.topic, m...).GetStatus(), v2.Code_INVALID_RECEIPT_HANDLE)
}

// TestGRPCFIFO: a consumeMessageOrderly group gets a message group's
// messages in order, several in one batch; the group gets nothing more
// until the whole batch is acknowledged or expired, and an unacknowledged
// one comes again (attempt 2) before anything younger.
func TestGRPCFIFO(t *testing.T) {
	f := newV5Fixture(t, 2)
	if err := f.b.SetTopicMessageType(f.topic, minirocketmq.MessageTypeFIFO); err != nil {
		t.Fatal(err)
	}
	if err := f.b.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: f.group, RetryMaxTimes: 16, RetryQueueNums: 1, ConsumeMessageOrderly: true}); err != nil {
		t.Fatal(err)
	}
	send := func(g, body string) {
		t.Helper()
		f.prod.mustSend(f.prod.newMsg(f.topic, body, func(m *v2.Message) {
			m.SystemProperties.MessageGroup = &g
			m.SystemProperties.MessageType = v2.MessageType_FIFO
		}))
	}
	for _, m := range [][2]string{{"A", "a1"}, {"B", "b1"}, {"A", "a2"}, {"B", "b2"}, {"A", "a3"}} {
		send(m[0], m[1])
	}
	byGroup := func(msgs []*v2.Message) map[string]string {
		out := map[string]string{}
		for _, m := range msgs {
			g := m.GetSystemProperties().GetMessageGroup()
			out[g] = strings.TrimPrefix(out[g]+","+string(m.GetBody()), ",")
		}
		return out
	}
	first := f.cons.receive(f.group, f.topic)
	if got := byGroup(first); len(first) != 5 || got["A"] != "a1,a2,a3" || got["B"] != "b1,b2" {
		t.Fatalf("first batch %v, want A's and B's messages in order", bodiesOf(first))
	}
	send("A", "a4")
	if more := f.cons.receive(f.group, f.topic); len(more) != 0 {
		t.Fatalf("a second batch while both groups have one in flight: %v", bodiesOf(more))
	}
	for _, m := range first {
		if string(m.GetBody()) == "a2" {
			continue
		}
		wantCode(t, "ack", f.cons.ack(f.group, f.topic, m).GetStatus(), v2.Code_OK)
	}
	if more := f.cons.receive(f.group, f.topic); len(more) != 0 {
		t.Fatalf("A's next batch while a2 is in flight: %v", bodiesOf(more))
	}
	f.clk.Advance(11 * time.Second) // a2 expires
	again := f.cons.receive(f.group, f.topic)
	if got := bodiesOf(again); strings.Join(got, ",") != "a2,a4" || again[0].GetSystemProperties().GetDeliveryAttempt() != 2 {
		t.Fatalf("after a2 expired: %v, want a2 (attempt 2) then a4", got)
	}
	wantCode(t, "ack", f.cons.ack(f.group, f.topic, again...).GetStatus(), v2.Code_OK)
}

// TestGRPCDeliveryTimestamp: a message with a delivery timestamp is
// received once that time has come on the broker's clock, as a DELAY
// message carrying the timestamp.
func TestGRPCDeliveryTimestamp(t *testing.T) {
	f := newV5Fixture(t, 1)
	if err := f.b.SetTopicMessageType(f.topic, minirocketmq.MessageTypeDelay); err != nil {
		t.Fatal(err)
	}
	at := f.clk.Now().Add(90 * time.Second).Truncate(time.Millisecond)
	f.prod.mustSend(f.prod.newMsg(f.topic, "later", func(m *v2.Message) {
		m.SystemProperties.MessageType = v2.MessageType_DELAY
		m.SystemProperties.DeliveryTimestamp = timestamppbNew(at)
	}))
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatal("received before its delivery time")
	}
	f.clk.Advance(89 * time.Second)
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatal("received a second before its delivery time")
	}
	f.clk.Advance(time.Second)
	var msgs []*v2.Message
	waitFor(t, 5*time.Second, "the timed message", func() bool {
		msgs = f.cons.receive(f.group, f.topic)
		return len(msgs) == 1
	})
	sp := msgs[0].GetSystemProperties()
	if sp.GetMessageType() != v2.MessageType_DELAY || !sp.GetDeliveryTimestamp().AsTime().Equal(at) {
		t.Fatalf("timed message %v", sp)
	}
	far := f.prod.send(f.prod.newMsg(f.topic, "too late", func(m *v2.Message) {
		m.SystemProperties.MessageType = v2.MessageType_DELAY
		m.SystemProperties.DeliveryTimestamp = timestamppbNew(f.clk.Now().Add(25 * time.Hour))
	}))
	wantCode(t, "a day and more ahead", far.GetStatus(), v2.Code_ILLEGAL_DELIVERY_TIME)
}

// TestGRPCLongPolling: a receive waits for a message within its long
// polling time and returns as soon as one is stored; without one it
// answers MESSAGE_NOT_FOUND once the time is up.
func TestGRPCLongPolling(t *testing.T) {
	f := newV5Fixture(t, 1)
	req := f.cons.receiveReq(f.group, f.topic)
	req.LongPollingTimeout = durationpb.New(2 * time.Second)
	got := make(chan receiveResult, 1)
	go func() { got <- f.cons.receiveWith(req, 10*time.Second) }()
	waitFor(t, 5*time.Second, "the receive to wait", func() bool { return f.b.PopWaiting(f.topic) })
	start := time.Now()
	f.prod.mustSend(f.prod.newMsg(f.topic, "wake up"))
	r := <-got
	if r.err != nil || r.status.GetCode() != v2.Code_OK || len(r.msgs) != 1 {
		t.Fatalf("long poll: %+v", r)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the waiting receive returned %v after the send", d)
	}
	req.LongPollingTimeout = durationpb.New(200 * time.Millisecond)
	r = f.cons.receiveWith(req, 10*time.Second)
	wantCode(t, "nothing", r.status, v2.Code_MESSAGE_NOT_FOUND)
	if r.status.GetMessage() != "no new message" || !r.delivered {
		t.Fatalf("nothing: %+v", r)
	}
}

// TestGRPCReceiveValidation: the proxy's checks of a receive.
func TestGRPCReceiveValidation(t *testing.T) {
	f := newV5Fixture(t, 1)
	cases := []struct {
		name    string
		mod     func(*v2.ReceiveMessageRequest)
		timeout time.Duration
		want    v2.Code
	}{
		{"deadline too short to poll", func(r *v2.ReceiveMessageRequest) { r.LongPollingTimeout = nil }, 50 * time.Millisecond, v2.Code_ILLEGAL_POLLING_TIME},
		{"invisible too short", func(r *v2.ReceiveMessageRequest) { r.InvisibleDuration = durationpb.New(time.Second) }, 0, v2.Code_ILLEGAL_INVISIBLE_TIME},
		{"invisible missing", func(r *v2.ReceiveMessageRequest) { r.InvisibleDuration = nil }, 0, v2.Code_ILLEGAL_INVISIBLE_TIME},
		{"invisible too long", func(r *v2.ReceiveMessageRequest) { r.InvisibleDuration = durationpb.New(13 * time.Hour) }, 0, v2.Code_ILLEGAL_INVISIBLE_TIME},
		{"unknown topic", func(r *v2.ReceiveMessageRequest) { r.MessageQueue.Topic = f.cons.res("nope-" + f.topic) }, 0, v2.Code_TOPIC_NOT_FOUND},
		{"bad group", func(r *v2.ReceiveMessageRequest) { r.Group = f.cons.res("") }, 0, v2.Code_ILLEGAL_CONSUMER_GROUP},
		{"bad SQL", func(r *v2.ReceiveMessageRequest) {
			r.FilterExpression = &v2.FilterExpression{Type: v2.FilterType_SQL, Expression: "a >"}
		}, 0, v2.Code_ILLEGAL_FILTER_EXPRESSION},
		{"batch too large", func(r *v2.ReceiveMessageRequest) { r.BatchSize = 33 }, 0, v2.Code_BAD_REQUEST},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := f.cons.receiveReq(f.group, f.topic)
			tc.mod(req)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			r := f.cons.receiveWith(req, timeout)
			if r.err != nil {
				t.Fatal(r.err)
			}
			wantCode(t, tc.name, r.status, tc.want)
		})
	}
}

// TestGRPCAutoRenew: a push consumer's messages (auto_renew) stay invisible
// while it lives; when it terminates they go to the group's other members
// at once.
func TestGRPCAutoRenew(t *testing.T) {
	f := newV5Fixture(t, 1)
	f.prod.mustSend(f.prod.newMsg(f.topic, "m"))
	push := dialV5(t, f.b)
	push.openTelemetry(push.consumerSettings(v2.ClientType_PUSH_CONSUMER, f.group, f.topic))
	req := push.receiveReq(f.group, f.topic)
	req.AutoRenew, req.InvisibleDuration = true, nil
	r := push.receiveWith(req, 10*time.Second)
	if r.status.GetCode() != v2.Code_OK || len(r.msgs) != 1 {
		t.Fatalf("push receive: %+v", r)
	}
	f.clk.Advance(10 * time.Minute)
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 0 {
		t.Fatal("an auto-renewed message went to another consumer while its owner lives")
	}
	resp, err := push.api.NotifyClientTermination(push.ctx(5*time.Second), &v2.NotifyClientTerminationRequest{Group: push.res(f.group)})
	if err != nil || resp.GetStatus().GetCode() != v2.Code_OK {
		t.Fatalf("terminate: %v %v", resp, err)
	}
	msgs := f.cons.receive(f.group, f.topic)
	if len(msgs) != 1 || msgs[0].GetSystemProperties().GetDeliveryAttempt() != 2 {
		t.Fatalf("after the owner left: %v", msgs)
	}
}

// TestGRPCCrossProtocolRemotingToGRPC: a message sent by the v2 remoting
// client is received by a gRPC consumer, with its tag, keys, properties and
// id; a compressed body arrives decompressed.
func TestGRPCCrossProtocolRemotingToGRPC(t *testing.T) {
	b := startV5(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	cons := dialV5(t, b)
	cons.consumer(group, topic)
	p := newProducer(t, b.Addr())
	big := strings.Repeat("compress me ", 1000) // over the client's 4 KiB compression threshold
	want := map[string]string{}
	for _, body := range []string{"hello", big} {
		msg := remotingMessage(topic, body)
		res, err := p.SendSync(ctxT(t, 10*time.Second), msg)
		if err != nil {
			t.Fatal(err)
		}
		want[res.MsgID] = body
	}
	msgs := cons.receiveN(group, topic, 2)
	for _, m := range msgs {
		sp := m.GetSystemProperties()
		body, ok := want[sp.GetMessageId()]
		switch {
		case !ok:
			t.Fatalf("message id %s is not one the remoting producer got", sp.GetMessageId())
		case string(m.GetBody()) != body:
			t.Fatalf("body of %s: %d bytes, want %d", sp.GetMessageId(), len(m.GetBody()), len(body))
		case sp.GetTag() != "tagX" || strings.Join(sp.GetKeys(), " ") != "key1 key2" || m.GetUserProperties()["color"] != "blue":
			t.Fatalf("message %v", m)
		case sp.GetBodyEncoding() != v2.Encoding_IDENTITY:
			t.Fatalf("encoding %v", sp.GetBodyEncoding())
		}
	}
	wantCode(t, "ack", cons.ack(group, topic, msgs...).GetStatus(), v2.Code_OK)
}

// TestGRPCCrossProtocolGRPCToRemoting: a message sent over gRPC (a GZIP
// body included) is consumed by the v2 remoting push consumer, with its
// tag, keys, properties and id.
func TestGRPCCrossProtocolGRPCToRemoting(t *testing.T) {
	b := startV5(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(topic, 4); err != nil {
		t.Fatal(err)
	}
	prod := dialV5(t, b)
	prod.producer(topic)
	tag := "tagY"
	sent := map[string]string{}
	for _, body := range []string{"from gRPC", strings.Repeat("z", 10000)} {
		m := prod.newMsg(topic, body, func(m *v2.Message) {
			m.SystemProperties.Tag = &tag
			m.SystemProperties.Keys = []string{"order-1"}
			m.UserProperties = map[string]string{"source": "grpc"}
		})
		if len(body) > 100 {
			m.Body, m.SystemProperties.BodyEncoding = gzipBytes(t, body), v2.Encoding_GZIP
		}
		sent[prod.mustSend(m).GetMessageId()] = body
	}
	got := consumeRemoting(t, b.Addr(), group, topic, 2)
	for _, m := range got {
		body, ok := sent[m.MsgId]
		switch {
		case !ok:
			t.Fatalf("remoting consumer got id %s, not one the gRPC producer sent", m.MsgId)
		case string(m.Body) != body:
			t.Fatalf("body of %s: %d bytes, want %d", m.MsgId, len(m.Body), len(body))
		case m.GetTags() != "tagY" || m.GetKeys() != "order-1" || m.GetProperty("source") != "grpc":
			t.Fatalf("message %v", m)
		}
	}
}

// TestGRPCNamespaces: a gRPC client's namespace is the remoting client's:
// resource {ns, T} is the broker's "ns%T", so the two meet on one topic.
func TestGRPCNamespaces(t *testing.T) {
	b := startV5(t)
	ns, topic, group := "ns1", rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := b.CreateTopic(ns+"%"+topic, 1); err != nil {
		t.Fatal(err)
	}
	cons := dialV5(t, b, withNamespace(ns))
	cons.consumer(group, topic)
	p := newProducer(t, b.Addr(), producer.WithNamespace(ns))
	if _, err := p.SendSync(ctxT(t, 10*time.Second), remotingMessage(topic, "namespaced")); err != nil {
		t.Fatal(err)
	}
	msgs := cons.receiveN(group, topic, 1)
	if r := msgs[0].GetTopic(); r.GetName() != topic || r.GetResourceNamespace() != ns {
		t.Fatalf("topic resource %v", r)
	}
	wantCode(t, "ack", cons.ack(group, topic, msgs...).GetStatus(), v2.Code_OK)
	if off, ok := b.ConsumerOffset(ns+"%"+group, ns+"%"+topic, 0); !ok || off != 1 {
		t.Fatalf("the group's offset is not under the namespaced names: %d %t", off, ok)
	}
	plain := dialV5(t, b)
	if msgs := plain.receive(rmqtest.Name(t, "H"), ns+"%"+topic); len(msgs) != 1 {
		t.Fatalf("the same topic by its full name: %v", msgs)
	}
}

// TestGRPCReceiveReadsEveryQueue: a receive naming one queue (the SDKs pick
// one from the route) gets messages of any queue at once, as from the
// proxy, instead of waiting on an empty queue.
func TestGRPCReceiveReadsEveryQueue(t *testing.T) {
	f := newV5Fixture(t, 4)
	f.prod.mustSend(f.prod.newMsg(f.topic, "somewhere"))
	var queue int32 = -1
	for q := 0; q < 4; q++ {
		if ms, _ := f.b.Messages(f.topic, q); len(ms) == 1 {
			queue = int32(q)
		}
	}
	req := f.cons.receiveReq(f.group, f.topic)
	req.MessageQueue.Id = (queue + 1) % 4 // another queue than the message's
	req.LongPollingTimeout = durationpb.New(2 * time.Second)
	start := time.Now()
	r := f.cons.receiveWith(req, 10*time.Second)
	if r.status.GetCode() != v2.Code_OK || len(r.msgs) != 1 {
		t.Fatalf("receive naming queue %d: %+v", req.MessageQueue.Id, r)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the receive waited %v", d)
	}
}
