package minirocketmq_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestRequestReply: producer.Request gets the reply a consumer sends back
// with CreateReplyMessage, body and properties included; a reply with an
// empty body arrives as one (the Go client's CreateReplyMessage drops the
// body it is given, so replies without a body are common).
func TestRequestReply(t *testing.T) {
	ns, b := rmqtest.Start(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	requester := newProducer(t, ns)
	replier := newProducer(t, ns)
	if _, err := requester.SendSync(context.Background(), newMsg(topic, "create the topic", "first")); err != nil {
		t.Fatal(err)
	}
	brokerNameOf(t, ns, topic)
	c := newPushConsumer(t, ns, group)
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			if m.GetProperty("idx") == "first" {
				continue
			}
			reply, err := consumer.CreateReplyMessage(m, nil)
			if err != nil {
				t.Errorf("create reply: %v", err)
				continue
			}
			if m.GetProperty("empty") == "" {
				reply.Body = []byte("re: " + string(m.Body))
			}
			reply.WithProperty("answered", m.GetProperty("idx"))
			if _, err := replier.SendSync(ctx, reply); err != nil {
				t.Logf("send reply: %v", err) // the requester times out and retries
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)

	// A real broker pushes replies only to a requester that has
	// heartbeated; early requests may time out there.
	request := func(idx string, empty bool) *primitive.Message {
		t.Helper()
		var last error
		for range 10 {
			m := newMsg(topic, "question "+idx, idx)
			if empty {
				m.WithProperty("empty", "1")
			}
			reply, err := requester.Request(context.Background(), 3*time.Second, m)
			if err == nil {
				return reply
			}
			last = err
		}
		t.Fatalf("request %s: %v", idx, last)
		return nil
	}
	reply := request("q1", false)
	if string(reply.Body) != "re: question q1" || reply.GetProperty("answered") != "q1" {
		t.Errorf("reply body %q answered %q", reply.Body, reply.GetProperty("answered"))
	}
	if want := minirocketmq.DefaultClusterName + "_REPLY_TOPIC"; reply.Topic != want && b != nil {
		t.Errorf("reply topic %s, want %s", reply.Topic, want)
	}
	reply = request("q2", true)
	if len(reply.Body) != 0 || reply.GetProperty("answered") != "q2" {
		t.Errorf("empty reply: body %q answered %q", reply.Body, reply.GetProperty("answered"))
	}
	if b != nil {
		// The replies are stored too (storeReplyMessageEnable), after
		// the push.
		waitFor(t, 10*time.Second, "both replies stored", func() bool {
			return b.MaxOffset(minirocketmq.DefaultClusterName+"_REPLY_TOPIC", 0) == 2
		})
	}
}

// TestRequestWithoutResponder: a request nobody answers fails with the
// client's timeout error after its timeout, not a hang.
func TestRequestWithoutResponder(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic := rmqtest.Name(t, "T")
	p := newProducer(t, ns)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "create the topic", "first")); err != nil {
		t.Fatal(err)
	}
	brokerNameOf(t, ns, topic)
	done := make(chan error, 1)
	go func() {
		_, err := p.Request(context.Background(), time.Second, newMsg(topic, "anyone?", "q"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "wait reply message timeout") {
			t.Fatalf("request without a responder: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("request without a responder hangs")
	}
}

// TestReplyToUnknownClient: a reply whose requester is not connected is
// refused with the real broker's remark, and still stored.
func TestReplyToUnknownClient(t *testing.T) {
	ns, b := rmqtest.Start(t)
	p := newProducer(t, ns)
	reply := primitive.NewMessage(minirocketmq.DefaultClusterName+"_REPLY_TOPIC", []byte("lost"))
	reply.WithProperty("MSG_TYPE", "reply")
	reply.WithProperty("CORRELATION_ID", "c-1")
	reply.WithProperty("REPLY_TO_CLIENT", "10.1.2.3@gone")
	_, err := p.SendSync(context.Background(), reply)
	want := fmt.Sprintf("push reply message fail, channel of <%s> not found.", "10.1.2.3@gone")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("reply to an unknown client: %v, want %q", err, want)
	}
	if b != nil {
		if n := b.MaxOffset(minirocketmq.DefaultClusterName+"_REPLY_TOPIC", 0); n == 0 {
			t.Error("the undeliverable reply was not stored")
		}
	}
}
