//go:build !race

package minirocketmq_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestResetOffsetByTime: the group replays from a point in time, through
// INVOKE_BROKER_TO_RESET_OFFSET (222, what mqadmin resetOffsetByTime
// sends) or Broker.ResetOffsetByTime: the offsets are committed and the
// live consumer, told with RESET_CONSUMER_CLIENT_OFFSET, consumes the
// messages stored since that time again. The real broker's refusals are
// kept: unknown topic, a queue never committed, no member online. No
// -race: the Go consumer races with itself when it applies a reset
// (push_consumer.go ResetOffset against pullMessage).
func TestResetOffsetByTimeNoRace(t *testing.T) {
	ns, b := rmqtest.Start(t)
	if b == nil {
		t.Skip("uses Broker.ResetOffsetByTime")
	}
	topic, g := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	if err := b.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, b.BrokerAddr())
	if resp := invoke(t, conn, remoting.NewRequest(remoting.InvokeBrokerToResetOffset, "topic", "NoSuch"+topic, "group", g, "timestamp", "-1", "isForce", "true")); resp.Code != remoting.SystemError {
		t.Fatalf("unknown topic: %d %s", resp.Code, resp.Remark)
	}
	if resp := invoke(t, conn, remoting.NewRequest(remoting.InvokeBrokerToResetOffset, "topic", topic, "group", g, "timestamp", "-1", "isForce", "true")); resp.Code != remoting.SystemError ||
		resp.Remark != "THe consumer group <"+g+"> not exist" {
		t.Fatalf("group without offsets: %d %s", resp.Code, resp.Remark)
	}
	p := newProducer(t, ns)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := p.SendSync(context.Background(), newMsg(topic, "x", fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 10)
	time.Sleep(20 * time.Millisecond) // store times are milliseconds: keep the halves apart
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	send(10, 20)

	var replays atomic.Int64
	col := newCollector()
	c := newPushConsumer(t, ns, g)
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			if col.keys()[m.GetProperty("idx")] {
				replays.Add(1)
			}
		}
		return col.handle(ctx, msgs...)
	}); err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)
	waitFor(t, 60*time.Second, "the first consumption", func() bool { return col.len() == 20 })
	waitFor(t, 30*time.Second, "the offsets committed", func() bool {
		a, _ := b.ConsumerOffset(g, topic, 0)
		z, _ := b.ConsumerOffset(g, topic, 1)
		return a+z == 20
	})

	offsets, err := b.ResetOffsetByTime(g, topic, mid, true)
	if err != nil {
		t.Fatal(err)
	}
	back := int64(0)
	for q, off := range offsets {
		back += b.MaxOffset(topic, q) - off
		if got, _ := b.ConsumerOffset(g, topic, q); got != off {
			t.Fatalf("queue %d: committed %d, reset to %d", q, got, off)
		}
	}
	if back != 10 {
		t.Fatalf("reset to the middle moved %d messages back, want 10: %v", back, offsets)
	}
	// The Go client waits 10 s before it applies a reset, then rebalances.
	waitFor(t, 90*time.Second, "the 10 messages replayed", func() bool { return replays.Load() >= 10 })

	// Through 222, as mqadmin: to the end.
	resp := invoke(t, conn, remoting.NewRequest(remoting.InvokeBrokerToResetOffset, "topic", topic, "group", g, "timestamp", "-1", "isForce", "true"))
	var body struct{ OffsetTable map[string]int64 }
	unmarshalAdmin(t, resp, &body)
	if body.OffsetTable[topic+"/0"]+body.OffsetTable[topic+"/1"] != 20 {
		t.Fatalf("reset to now answered %v", body.OffsetTable)
	}
	stopConsumer(c, time.Now())
	waitFor(t, 30*time.Second, "the consumer to leave", func() bool { return len(b.ConsumerIDs(g)) == 0 })
	if resp := invoke(t, conn, remoting.NewRequest(remoting.InvokeBrokerToResetOffset, "topic", topic, "group", g, "timestamp", "0", "isForce", "true")); resp.Code != remoting.ConsumerNotOnline {
		t.Fatalf("offline group: %d %s", resp.Code, resp.Remark)
	}
	if _, err := b.ResetOffsetByTime(g, topic, time.UnixMilli(0), true); err != minirocketmq.ErrGroupNotOnline {
		t.Fatalf("offline reset: %v", err)
	}
	if off, _ := b.ConsumerOffset(g, topic, 0); off != 0 {
		t.Fatalf("an offline reset to 0 left offset %d", off)
	}
}
