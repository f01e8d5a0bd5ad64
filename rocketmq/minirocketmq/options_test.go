package minirocketmq_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// Options of the embedded broker, seen through the official client. These
// configure the embedded broker only, so they do not run against
// ROCKETMQ_NAMESRV.

func TestOptionDefaultQueueNums(t *testing.T) {
	b := minirocketmq.RunT(t, minirocketmq.WithDefaultQueueNums(6))
	p := newProducer(t, b.Addr())
	if _, err := p.SendSync(context.Background(), newMsg("SixQueues", "x", "0")); err != nil {
		t.Fatal(err)
	}
	if tc, ok := b.Topic("SixQueues"); !ok || tc.WriteQueueNums != 6 || tc.ReadQueueNums != 6 || tc.Perm != 6 {
		t.Fatalf("auto-created topic %+v", tc)
	}
	if n := routeQueues(t, b.Addr(), "SixQueues"); n != 6 {
		t.Fatalf("route has %d queues", n)
	}
}

func TestOptionMaxMessageSize(t *testing.T) {
	b := minirocketmq.RunT(t, minirocketmq.WithMaxMessageSize(1024))
	p := newProducer(t, b.Addr())
	if _, err := p.SendSync(context.Background(), primitive.NewMessage("Small", make([]byte, 1024))); err != nil {
		t.Fatalf("a body of exactly the limit: %v", err)
	}
	_, err := p.SendSync(context.Background(), primitive.NewMessage("Small", make([]byte, 1025)))
	if err == nil || !strings.Contains(err.Error(), "CODE: 13") || !strings.Contains(err.Error(), "msg body length limit 1024B") {
		t.Fatalf("a body over the limit: %v", err)
	}
	if n := b.MaxOffset("Small", 0) + b.MaxOffset("Small", 1) + b.MaxOffset("Small", 2) + b.MaxOffset("Small", 3); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}

func TestOptionAutoCreateOff(t *testing.T) {
	b := minirocketmq.RunT(t, minirocketmq.WithAutoCreateTopic(false))
	if routeQueues(t, b.Addr(), minirocketmq.AutoCreateTopicKey) != -1 {
		t.Fatal("TBW102 served with auto-creation off")
	}
	p := newProducer(t, b.Addr())
	if _, err := p.SendSync(context.Background(), newMsg("Unknown", "x", "0")); err == nil {
		t.Fatal("send to an unknown topic succeeded")
	}
	if _, ok := b.Topic("Unknown"); ok {
		t.Fatal("topic created")
	}
	// A raw send naming TBW102 as default topic is refused the real way.
	resp := invoke(t, dial(t, b.BrokerAddr()), remoting.NewRequest(remoting.SendMessage,
		"producerGroup", "pg", "topic", "Unknown", "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
		"queueId", "0", "sysFlag", "0", "bornTimestamp", "1", "flag", "0", "properties", ""))
	if resp.Code != remoting.TopicNotExist || !strings.HasPrefix(resp.Remark, "topic[Unknown] not exist, apply first please!") {
		t.Fatalf("code %d remark %q", resp.Code, resp.Remark)
	}
	if err := b.CreateTopic("Unknown", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a send to the created topic", func() bool {
		_, err := p.SendSync(context.Background(), newMsg("Unknown", "x", "1"))
		return err == nil
	})
}

// TestFailNext: the test hook fails exactly the next n requests of a code,
// and the client's retries see it.
func TestFailNext(t *testing.T) {
	b := minirocketmq.RunT(t)
	p := newProducer(t, b.Addr())
	if _, err := p.SendSync(context.Background(), newMsg("Flaky", "x", "0")); err != nil {
		t.Fatal(err)
	}
	// The client retries code 1 twice (3 attempts): 2 failures are hidden,
	// 3 are not.
	b.FailNext(remoting.SendMessage, 2, remoting.SystemError, "injected")
	if _, err := p.SendSync(context.Background(), newMsg("Flaky", "x", "1")); err != nil {
		t.Fatalf("send after 2 injected failures: %v", err)
	}
	b.FailNext(remoting.SendMessage, 3, remoting.SystemError, "injected")
	if _, err := p.SendSync(context.Background(), newMsg("Flaky", "x", "2")); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("send after 3 injected failures: %v", err)
	}
	if _, err := p.SendSync(context.Background(), newMsg("Flaky", "x", "3")); err != nil {
		t.Fatalf("send after the injected failures ran out: %v", err)
	}
	msgs := 0
	for q := range 4 {
		ms, err := b.Messages("Flaky", q)
		if err != nil {
			t.Fatal(err)
		}
		msgs += len(ms)
	}
	if msgs != 3 {
		t.Fatalf("%d messages stored, want 3", msgs)
	}
}
