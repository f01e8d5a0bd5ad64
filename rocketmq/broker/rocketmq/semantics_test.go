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

// subscribeDLQWhenCreated polls until the broker has created %DLQ%group (it does on the
// first dead letter) and subscribes to it.
func subscribeDLQWhenCreated(t *testing.T, b *Broker, group string) *recorder {
	t.Helper()
	var rec *recorder
	deadline := time.Now().Add(90 * time.Second)
	for {
		if rec = tryDLQ(t, b, group); rec != nil {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("%%DLQ%%%s never appeared", group)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tryDLQ(t *testing.T, b *Broker, group string) *recorder {
	var rec recorder
	_, err := b.Subscribe("%DLQ%"+group, func(ctx context.Context, evt broker.Event) error {
		rec.add(ctx, evt.Topic(), evt.Message().Headers, evt.Message().Body)
		return nil
	}, nil, broker.WithQueueName(rmqtest.Name(t, "DLQREADER")), WithConsumeFromFirst())
	if err != nil {
		return nil
	}
	return &rec
}

func TestHandlerErrorRetriesThenDLQ(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func() error
	}{
		{"error", func() error { return errors.New("boom") }},
		{"panic", func() error { panic("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := rmqtest.NameServer(t)
			b := newTestBroker(t, ns)
			topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
			ensureTopic(t, b, topic)
			const maxRecon = 2
			var attempts atomic.Int32
			var lastReconsume atomic.Value
			_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
				if isWarmup(h) {
					return nil
				}
				attempts.Add(1)
				lastReconsume.Store(h[HeaderReconsumeTimes])
				return tc.fail()
			}, broker.WithQueueName(group), WithConsumeFromFirst(),
				WithMaxReconsumeTimes(maxRecon), WithRetryDelayLevel(1))
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Publish(context.Background(), topic, &order{ID: 1}, WithKeys([]string{"dlq-me"})); err != nil {
				t.Fatal(err)
			}
			// 1 delivery + maxRecon redeliveries, then the DLQ.
			poll.Until(t, 120*time.Second, "1+maxRecon attempts", func() bool { return attempts.Load() >= maxRecon+1 })
			dlq := subscribeDLQWhenCreated(t, b, group)
			poll.Until(t, 60*time.Second, "the message in the DLQ", func() bool { return dlq.len() >= 1 })
			if got := dlq.all()[0].headers[HeaderKeys]; got != "dlq-me" {
				t.Errorf("DLQ message keys = %q, want dlq-me", got)
			}
			if n := attempts.Load(); n != maxRecon+1 {
				t.Errorf("attempts = %d, want %d", n, maxRecon+1)
			}
			if v := lastReconsume.Load(); v != "2" {
				t.Errorf("last reconsume header = %v, want 2", v)
			}
		})
	}
}

func TestUndecodableGoesToDLQAtOnce(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var calls atomic.Int32
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			calls.Add(1)
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithMaxReconsumeTimes(5), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, []byte("not json"), WithKeys([]string{"garbage"})); err != nil {
		t.Fatal(err)
	}
	dlq := subscribeDLQWhenCreated(t, b, group)
	poll.Until(t, 60*time.Second, "the message in the DLQ", func() bool { return dlq.len() >= 1 })
	e := dlq.all()[0]
	if string(e.body.([]byte)) != "not json" || e.headers[HeaderKeys] != "garbage" {
		t.Errorf("DLQ message = %q %v", e.body, e.headers)
	}
	if rc := e.headers[HeaderReconsumeTimes]; rc != "0" && rc != "1" {
		t.Errorf("reconsume times of the dead letter = %s: it was retried before the DLQ", rc)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler called %d times for an undecodable body", n)
	}
}

func TestErrDeadLetterGoesToDLQAtOnce(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var calls atomic.Int32
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		calls.Add(1)
		return fmt.Errorf("order %d refers to nothing: %w", o.ID, broker.ErrDeadLetter)
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithMaxReconsumeTimes(5), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 7}, WithKeys([]string{"poison"})); err != nil {
		t.Fatal(err)
	}
	dlq := subscribeDLQWhenCreated(t, b, group)
	poll.Until(t, 60*time.Second, "the message in the DLQ", func() bool { return dlq.len() >= 1 })
	if e := dlq.all()[0]; e.headers[HeaderKeys] != "poison" {
		t.Errorf("DLQ message = %q %v", e.body, e.headers)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1 (no redelivery before the DLQ)", n)
	}
}

func TestAutoAckDisabled(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var deliveries atomic.Int32
	_, err := b.Subscribe(topic, func(ctx context.Context, evt broker.Event) error {
		if isWarmup(evt.Message().Headers) {
			return evt.Ack()
		}
		if deliveries.Add(1) == 1 {
			return nil // no Ack: must come again
		}
		return evt.Ack()
	}, nil, broker.WithQueueName(group), WithConsumeFromFirst(), broker.DisableAutoAck(), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, "x"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 90*time.Second, "a redelivery of the unacknowledged message", func() bool { return deliveries.Load() >= 2 })
}

func TestDrainWaitsForRunningHandler(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	started := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		close(started)
		<-release
		finished.Store(true)
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	<-started
	drained := make(chan error, 1)
	go func() { drained <- b.Drain(context.Background()) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while a handler was running", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if !finished.Load() {
		t.Fatal("Drain returned before the handler finished")
	}
}

func TestDrainDeadlineCancelsHandlers(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	started := make(chan struct{})
	cancelled := make(chan struct{})
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain = %v, want deadline exceeded", err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("handler context not cancelled after the drain deadline")
	}
}
