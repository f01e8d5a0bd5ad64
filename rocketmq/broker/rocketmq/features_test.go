package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestDelayLevel(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	got := make(chan time.Time, 1)
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			got <- time.Now()
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if err := b.Publish(context.Background(), topic, &order{ID: 1}, WithDelayTimeLevel(2)); err != nil { // 5s
		t.Fatal(err)
	}
	select {
	case at := <-got:
		// A lower bound only: an early delivery means the delay was ignored.
		if d := at.Sub(sent); d < 4*time.Second {
			t.Errorf("delay level 2 delivered after %v, want >= 5s", d)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("delayed message not delivered")
	}
}

func TestRequestReply(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		if h["asker"] != "q-test" {
			return fmt.Errorf("request without its header: %v", h)
		}
		return broker.Reply(ctx, &order{ID: o.ID * 10, Note: "reply to " + o.Note})
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithRetryDelayLevel(1), WithTagSelector("question"))
	if err != nil {
		t.Fatal(err)
	}
	// The broker pushes replies only to a requester whose producer has sent a heartbeat
	// (about 1s after Connect), so early requests may time out: retry a few.
	var reply *order
	for i := 0; i < 10 && reply == nil; i++ {
		v, err := b.Request(context.Background(), topic, &order{ID: 4, Note: fmt.Sprint("q", i)},
			broker.WithRequestTimeout(3*time.Second), broker.WithReplyBinder(broker.NewBinder[order]()),
			// the request carries the publish options it is given (the tag the group selects on, a header)
			broker.WithRequestPublishOptions(WithTag("question"), broker.WithHeaders(broker.Headers{"asker": "q-test"})))
		if err != nil {
			t.Logf("request %d: %v", i, err)
			continue
		}
		reply = v.(*order)
	}
	if reply == nil {
		t.Fatal("no reply")
	}
	if reply.ID != 40 || len(reply.Note) < 10 {
		t.Errorf("reply = %+v", reply)
	}
	if err := broker.Reply(context.Background(), "x"); !errors.Is(err, broker.ErrNotRequest) {
		t.Errorf("Reply outside a request handler = %v, want ErrNotRequest", err)
	}
}

func TestBroadcast(t *testing.T) {
	ns := rmqtest.NameServer(t)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	var recs [2]recorder
	var brokers [2]*Broker
	for i := range brokers {
		brokers[i] = newTestBroker(t, ns)
		if i == 0 {
			ensureTopic(t, brokers[0], topic)
		}
		rec := &recs[i]
		_, err := broker.Subscribe(brokers[i], topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				rec.add(ctx, tp, h, o)
			}
			return nil
		}, broker.WithQueueName(group), WithConsumerModel(MessageModelBroadCasting), WithConsumeFromFirst())
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if err := brokers[0].Publish(context.Background(), topic, &order{ID: i}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 60*time.Second, "every message at both consumers", func() bool { return recs[0].len() >= 4 && recs[1].len() >= 4 })
}

func TestBroadcastRetriesInProcess(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var calls atomic.Int32
	done := make(chan struct{})
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		close(done)
		return nil
	}, broker.WithQueueName(group), WithConsumerModel(MessageModelBroadCasting), WithConsumeFromFirst(),
		WithMaxReconsumeTimes(5), WithSuspendInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("handler called %d times, want a third, successful call", calls.Load())
	}
}
