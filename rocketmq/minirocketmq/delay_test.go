package minirocketmq_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestDelayLevel: a message sent with delay level 2 (configured to 1 s on
// the embedded broker; 5 s on a real one) arrives no earlier than that after
// it was sent, and not much later: within the level plus a generous 10 s
// margin, which is shorter than level 3 (30 s here), so a scheduler that
// waits the wrong level or only wakes up now and then fails. It arrives
// with the same message id and its properties (and no DELAY property left
// on the embedded broker); a message sent at the same time without a delay
// arrives first.
func TestDelayLevel(t *testing.T) {
	ns, b := rmqtest.Start(t, minirocketmq.WithDelayLevels(200*time.Millisecond, time.Second, 30*time.Second))
	level2 := 5 * time.Second
	if b != nil {
		level2 = time.Second
	}
	const margin = 10 * time.Second
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "CG")
	p := newProducer(t, ns)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "create the topic", "first")); err != nil {
		t.Fatal(err)
	}
	brokerNameOf(t, ns, topic)
	type arrival struct {
		m  *primitive.MessageExt
		at time.Time
	}
	got := make(chan arrival, 10)
	c := newPushConsumer(t, ns, group)
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, ms ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range ms {
			if m.GetProperty("idx") != "first" {
				got <- arrival{m, time.Now()}
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	startConsumer(t, c)

	delayed := newMsg(topic, "later", "delayed")
	delayed.WithDelayTimeLevel(2)
	delayed.WithProperty("color", "green")
	sentAt := time.Now()
	res, err := p.SendSync(context.Background(), delayed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(context.Background(), newMsg(topic, "now", "plain")); err != nil {
		t.Fatal(err)
	}
	var first, second arrival
	for i, a := range []*arrival{&first, &second} {
		select {
		case *a = <-got:
		case <-time.After(60 * time.Second):
			t.Fatalf("message %d not delivered", i+1)
		}
	}
	if first.m.GetProperty("idx") != "plain" || second.m.GetProperty("idx") != "delayed" {
		t.Fatalf("arrival order %s, %s", first.m.GetProperty("idx"), second.m.GetProperty("idx"))
	}
	m := second.m
	if d := second.at.Sub(sentAt); d < level2 || d > level2+margin {
		t.Errorf("delay level 2 (%v) delivered after %v, want within [%v, %v]", level2, d, level2, level2+margin)
	}
	if m.MsgId != res.MsgID || string(m.Body) != "later" || m.GetProperty("color") != "green" || m.Topic != topic {
		t.Errorf("delayed message: id %s (sent %s) body %q color %q topic %s", m.MsgId, res.MsgID, m.Body, m.GetProperty("color"), m.Topic)
	}
	// 4.9.4 delivers DELAY too (it removes the property from its in-memory
	// map after it has encoded the stored properties); we remove it.
	if v := m.GetProperty(message.PropertyDelayTimeLevel); v != "" && b != nil {
		t.Errorf("delivered message still has DELAY=%s", v)
	}
}

// TestDelayManualClock drives the delay levels with a ManualClock: a
// delayed message stays in the schedule queue until the clock has passed
// its level, a level above the last one means the last one, and each level
// is delivered in order.
func TestDelayManualClock(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs the embedded broker's clock")
	}
	clk := minirocketmq.NewManualClock(time.UnixMilli(1_700_000_000_000))
	b := minirocketmq.RunT(t, minirocketmq.WithClock(clk), minirocketmq.WithDelayLevels(10*time.Second, time.Minute))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, b.Addr())
	send := func(idx string, level int) {
		m := newMsg(topic, idx, idx)
		m.WithDelayTimeLevel(level)
		if _, err := p.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	send("a", 1)
	send("b", 1)
	send("c", 7) // capped to level 2 (1 min)
	delivered := func() []string {
		msgs, err := b.Messages(topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, string(m.Body))
		}
		return out
	}
	if n := b.MaxOffset(minirocketmq.ScheduleTopic, 0) + b.MaxOffset(minirocketmq.ScheduleTopic, 1); n != 3 {
		t.Fatalf("%d messages parked, want 3", n)
	}
	clk.Advance(10 * time.Second) // due 1 ms later
	if got := delivered(); len(got) != 0 {
		t.Fatalf("delivered %v before the delay", got)
	}
	clk.Advance(time.Millisecond)
	waitFor(t, 10*time.Second, "level 1 delivered", func() bool { return len(delivered()) == 2 })
	if got := delivered(); got[0] != "a" || got[1] != "b" {
		t.Fatalf("delivered %v, want a, b", got)
	}
	clk.Advance(time.Minute)
	waitFor(t, 10*time.Second, "level 2 delivered", func() bool { return len(delivered()) == 3 })
	if off, ok := b.ConsumerOffset("CID_RMQ_SYS_SCHEDULE", minirocketmq.ScheduleTopic, 1); !ok || off != 1 {
		t.Fatalf("delay cursor of level 2: %d, %t", off, ok)
	}
}
