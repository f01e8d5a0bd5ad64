package minirocketmq_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/store"
)

// armedPanicStore is the default in-memory store, except that Put panics once
// for each arm while the topic of what is put is topic.
type armedPanicStore struct {
	store.Store
	topic atomic.Pointer[string]
	armed atomic.Int32
}

func newArmedPanicStore() *armedPanicStore { return &armedPanicStore{Store: store.NewMemory()} }

func (s *armedPanicStore) arm(topic string) { s.topic.Store(&topic); s.armed.Add(1) }

func (s *armedPanicStore) Put(msgs []*message.Message) error {
	if t := s.topic.Load(); t != nil && msgs[0].Topic == *t && s.armed.Add(-1) >= 0 {
		panic("armedPanicStore: Put to " + msgs[0].Topic)
	}
	return s.Store.Put(msgs)
}

// TestTimerSurvivesStorePanic: a store panic while the timer delivers a
// due message is recovered and counted; the message comes a second later
// and the timer goes on delivering.
func TestTimerSurvivesStorePanic(t *testing.T) {
	skipExternal(t)
	st := newArmedPanicStore()
	clk := minirocketmq.NewManualClock(time.Now())
	b := minirocketmq.RunT(t, minirocketmq.WithClock(clk), minirocketmq.WithStore(st))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 1); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, b.BrokerAddr())
	send := func(body string, delaySec int) {
		t.Helper()
		req := remoting.NewRequest(remoting.SendMessage,
			"producerGroup", "RawPG", "topic", topic, "defaultTopic", "TBW102", "defaultTopicQueueNums", "4",
			"queueId", "0", "sysFlag", "0", "bornTimestamp", fmt.Sprint(time.Now().UnixMilli()), "flag", "0",
			"properties", fmt.Sprintf("TIMER_DELAY_SEC\x01%d\x02UNIQ_KEY\x01%s\x02", delaySec, body))
		req.Body = []byte(body)
		if resp := invoke(t, conn, req); resp.Code != remoting.Success {
			t.Fatalf("send: %d %s", resp.Code, resp.Remark)
		}
	}
	stored := func() int { ms, _ := b.Messages(topic, 0); return len(ms) }
	send("A1", 10)
	st.arm(topic)
	clk.Advance(10 * time.Second)
	waitFor(t, 5*time.Second, "the panic to be counted", func() bool { return b.Stats().HandlerPanics == 1 })
	if n := stored(); n != 0 {
		t.Fatalf("%d message(s) stored by a Put that panicked", n)
	}
	clk.Advance(time.Second)
	waitFor(t, 5*time.Second, "the message a second later", func() bool { return stored() == 1 })
	send("A2", 5)
	clk.Advance(5 * time.Second)
	waitFor(t, 5*time.Second, "the next timed message", func() bool { return stored() == 2 })
}

// TestPopDeadLetterSurvivesStorePanic: a store panic while the pop
// engine's background goroutine writes a dead letter is recovered and
// counted; the dead letter is written a second later and the engine goes
// on expiring deliveries.
func TestPopDeadLetterSurvivesStorePanic(t *testing.T) {
	st := newArmedPanicStore()
	f := newV5Fixture(t, 1, minirocketmq.WithStore(st))
	if err := f.b.UpdateSubscriptionGroup(minirocketmq.SubscriptionGroupConfig{GroupName: f.group, RetryMaxTimes: 0, RetryQueueNums: 1}); err != nil {
		t.Fatal(err)
	}
	dlq := "%DLQ%" + f.group
	dead := func() int { ms, _ := f.b.Messages(dlq, 0); return len(ms) }
	f.prod.mustSend(f.prod.newMsg(f.topic, "poison"))
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 1 {
		t.Fatalf("receive: %v", msgs)
	}
	st.arm(dlq)
	f.clk.Advance(10 * time.Second) // its only attempt expires
	waitFor(t, 5*time.Second, "the panic to be counted", func() bool { return f.b.Stats().HandlerPanics == 1 })
	if n := dead(); n != 0 {
		t.Fatalf("%d dead letter(s) stored by a Put that panicked", n)
	}
	f.clk.Advance(time.Second)
	waitFor(t, 5*time.Second, "the dead letter a second later", func() bool { return dead() == 1 })
	f.prod.mustSend(f.prod.newMsg(f.topic, "poison 2"))
	if msgs := f.cons.receive(f.group, f.topic); len(msgs) != 1 {
		t.Fatalf("receive after the panic: %v", msgs)
	}
	f.clk.Advance(10 * time.Second)
	waitFor(t, 5*time.Second, "the next dead letter", func() bool { return dead() == 2 })
}
