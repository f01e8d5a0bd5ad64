package minirocketmq_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestTimedMessagesRemoting: the remoting client's TIMER_DELIVER_MS and
// TIMER_DELAY_SEC hold a message back until its time on the broker's clock;
// it is then stored in its queue with TIMER_DELIVER_MS = that time.
func TestTimedMessagesRemoting(t *testing.T) {
	skipExternal(t) // 4.9.4 ignores these properties
	clk := minirocketmq.NewManualClock(time.Now())
	b := minirocketmq.RunT(t, minirocketmq.WithClock(clk))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	at := clk.Now().Add(90 * time.Second).UnixMilli()
	abs := primitive.NewMessage(topic, []byte("absolute"))
	abs.WithProperty("TIMER_DELIVER_MS", strconv.FormatInt(at, 10))
	rel := primitive.NewMessage(topic, []byte("relative"))
	rel.WithProperty("TIMER_DELAY_SEC", "30")
	now := primitive.NewMessage(topic, []byte("past"))
	now.WithProperty("TIMER_DELIVER_MS", strconv.FormatInt(clk.Now().Add(-time.Second).UnixMilli(), 10))
	for _, m := range []*primitive.Message{abs, rel, now} {
		if _, err := p.SendSync(ctxT(t, 10*time.Second), m); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() []string {
		ms, _ := b.Messages(topic, 0)
		var out []string
		for _, m := range ms {
			out = append(out, string(m.Body))
		}
		return out
	}
	if got := stored(); !sameStrings(got, []string{"past"}) {
		t.Fatalf("before any is due: %v", got)
	}
	clk.Advance(30 * time.Second)
	waitFor(t, 5*time.Second, "the relative one", func() bool { return len(stored()) == 2 })
	clk.Advance(59 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if got := stored(); len(got) != 2 {
		t.Fatalf("a second early: %v", got)
	}
	clk.Advance(time.Second)
	waitFor(t, 5*time.Second, "the absolute one", func() bool { return len(stored()) == 3 })
	ms, _ := b.Messages(topic, 0)
	props := message.ParseProperties(ms[2].Properties)
	if props["TIMER_DELIVER_MS"] != strconv.FormatInt(at, 10) || props["REAL_TOPIC"] != "" {
		t.Fatalf("delivered properties %v", props)
	}
	props = message.ParseProperties(ms[1].Properties)
	if props["TIMER_DELAY_SEC"] != "" || props["TIMER_DELIVER_MS"] == "" {
		t.Fatalf("a relative delay is delivered with the time it was due: %v", props)
	}
}

// TestTimedMessagesSurviveRestart: a parked message is delivered after a
// restart with a data directory.
func TestTimedMessagesSurviveRestart(t *testing.T) {
	skipExternal(t)
	dir := t.TempDir()
	clk := minirocketmq.NewManualClock(time.Now())
	topic := rmqtest.Name(t, "T")
	open := func() *minirocketmq.Broker {
		b, err := minirocketmq.Run(minirocketmq.WithClock(clk), minirocketmq.WithDataDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := open()
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	m := primitive.NewMessage(topic, []byte("later"))
	m.WithProperty("TIMER_DELAY_SEC", "60")
	if _, err := p.SendSync(ctxT(t, 10*time.Second), m); err != nil {
		t.Fatal(err)
	}
	_ = p.Shutdown()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open()
	t.Cleanup(func() { _ = b.Close() })
	if ms, _ := b.Messages(topic, 0); len(ms) != 0 {
		t.Fatal("delivered before its time after the restart")
	}
	clk.Advance(time.Minute)
	waitFor(t, 5*time.Second, "the parked message after the restart", func() bool {
		ms, _ := b.Messages(topic, 0)
		return len(ms) == 1
	})
}

// TestTopicMessageTypeAttribute: UPDATE_AND_CREATE_TOPIC's attributes
// (mqadmin updateTopic -a +message.type=FIFO) set the type gRPC routes
// announce; "-message.type" removes it.
func TestTopicMessageTypeAttribute(t *testing.T) {
	b := startV5(t)
	topic := rmqtest.Name(t, "T")
	conn := dial(t, b.BrokerAddr())
	update := func(attrs string) {
		t.Helper()
		req := remoting.NewRequest(remoting.UpdateAndCreateTopic, "topic", topic, "readQueueNums", "2", "writeQueueNums", "2",
			"perm", "6", "topicFilterType", "SINGLE_TAG", "attributes", attrs)
		if resp := invoke(t, conn, req); resp.Code != remoting.Success {
			t.Fatalf("update topic: %d %s", resp.Code, resp.Remark)
		}
	}
	c := dialV5(t, b)
	accepts := func() v2.MessageType {
		t.Helper()
		resp, err := c.api.QueryRoute(c.ctx(5*time.Second), &v2.QueryRouteRequest{Topic: c.res(topic), Endpoints: c.endpoints()})
		if err != nil || resp.GetStatus().GetCode() != v2.Code_OK {
			t.Fatalf("route: %v %v", resp, err)
		}
		return resp.GetMessageQueues()[0].GetAcceptMessageTypes()[0]
	}
	update("+message.type=FIFO")
	if got := accepts(); got != v2.MessageType_FIFO {
		t.Fatalf("after +message.type=FIFO: %v", got)
	}
	update("+other=x")
	if tc, _ := b.Topic(topic); tc.Attributes["message.type"] != "FIFO" || tc.Attributes["other"] != "x" {
		t.Fatalf("attributes %v", tc.Attributes)
	}
	update("-message.type")
	if got := accepts(); got != v2.MessageType_NORMAL {
		t.Fatalf("after -message.type: %v", got)
	}
}
