package rocketmq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestPublishSubscribeTyped(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)

	var rec recorder
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			rec.add(ctx, tp, h, o)
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	ctx := context.Background()
	var res broker.PublishResult
	err = b.Publish(ctx, topic, &order{ID: 7, Note: "seven"},
		WithTag("created"), WithKeys([]string{"order-7", "k2"}),
		WithProperties(map[string]string{"tenant": "acme"}), broker.WithPublishResult(&res))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if res.ID == "" || res.Topic != topic {
		t.Fatalf("publish result = %+v, want an id and topic %s", res, topic)
	}
	poll.Until(t, 30*time.Second, "the message", func() bool { return rec.len() == 1 })
	got := rec.all()[0]
	if o := got.body.(*order); o.ID != 7 || o.Note != "seven" {
		t.Errorf("body = %+v", o)
	}
	if got.topic != topic {
		t.Errorf("topic = %q, want %q", got.topic, topic)
	}
	want := map[string]string{
		HeaderTopic: topic, HeaderTags: "created", HeaderKeys: "order-7 k2",
		HeaderMessageID: res.ID, HeaderReconsumeTimes: "0", "tenant": "acme",
	}
	for k, v := range want {
		if got.headers[k] != v {
			t.Errorf("header %s = %q, want %q (all: %v)", k, got.headers[k], v, got.headers)
		}
	}
}

func TestTagSelectorRoutes(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic := rmqtest.Name(t, "T")
	ensureTopic(t, b, topic)

	var a, bc recorder
	sub := func(rec *recorder, group, expr string) {
		t.Helper()
		_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
			rec.add(ctx, tp, h, o)
			return nil
		}, broker.WithQueueName(group), WithTagSelector(expr), WithConsumeFromFirst())
		if err != nil {
			t.Fatalf("subscribe %s: %v", expr, err)
		}
	}
	sub(&a, rmqtest.Name(t, "GA"), "a")
	sub(&bc, rmqtest.Name(t, "GBC"), "b || c")
	for i, tag := range []string{"a", "b", "c", "d", "a"} {
		if err := b.Publish(context.Background(), topic, &order{ID: i}, WithTag(tag)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	poll.Until(t, 30*time.Second, "tag a twice and b||c twice", func() bool { return a.len() == 2 && bc.len() == 2 })
	// A straggler would be a filter bug: give one more poll round a chance to show it.
	if err := b.Publish(context.Background(), topic, &order{ID: 99}, WithTag("a")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the last tag-a message", func() bool { return a.len() == 3 })
	for _, e := range a.all() {
		if e.headers[HeaderTags] != "a" {
			t.Errorf("subscriber of 'a' got tag %q", e.headers[HeaderTags])
		}
	}
	for _, e := range bc.all() {
		if tg := e.headers[HeaderTags]; tg != "b" && tg != "c" {
			t.Errorf("subscriber of 'b || c' got tag %q", tg)
		}
	}
	if n := bc.len(); n != 2 {
		t.Errorf("b||c got %d messages, want 2", n)
	}
}

func TestAsyncOnewayBatch(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var rec recorder
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			rec.add(ctx, tp, h, o)
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	type asyncResult struct {
		res *broker.PublishResult
		err error
	}
	done := make(chan asyncResult, 1)
	err = b.Publish(ctx, topic, &order{ID: 1, Note: "async"}, WithAsync(func(_ context.Context, res *broker.PublishResult, err error) {
		done <- asyncResult{res, err}
	}))
	if err != nil {
		t.Fatalf("publish async: %v", err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.res == nil || r.res.ID == "" {
			t.Fatalf("async callback: res=%+v err=%v", r.res, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("async callback not called")
	}
	if err := b.Publish(ctx, topic, &order{ID: 2, Note: "oneway"}, WithOneway()); err != nil {
		t.Fatalf("publish oneway: %v", err)
	}
	var res broker.PublishResult
	batch := broker.Batch{&order{ID: 3, Note: "batch"}, &order{ID: 4, Note: "batch"}, &order{ID: 5, Note: "batch"}}
	if err := b.Publish(ctx, topic, batch, broker.WithPublishResult(&res)); err != nil {
		t.Fatalf("publish batch: %v", err)
	}
	if res.ID == "" {
		t.Errorf("batch result has no id: %+v", res)
	}
	poll.Until(t, 30*time.Second, "5 messages", func() bool { return rec.len() >= 5 })
	seen := map[int]string{}
	for _, e := range rec.all() {
		o := e.body.(*order)
		seen[o.ID] = o.Note
	}
	for id, note := range map[int]string{1: "async", 2: "oneway", 3: "batch", 4: "batch", 5: "batch"} {
		if seen[id] != note {
			t.Errorf("message %d: note %q, want %q (seen %v)", id, seen[id], note, seen)
		}
	}
}

func TestSeveralTopicsInOneGroup(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	group := rmqtest.Name(t, "G")
	topics := []string{rmqtest.Name(t, "T1"), rmqtest.Name(t, "T2")}
	var rec recorder
	for _, topic := range topics {
		ensureTopic(t, b, topic)
		_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				rec.add(ctx, tp, h, o)
			}
			return nil
		}, broker.WithQueueName(group), WithConsumeFromFirst())
		if err != nil {
			t.Fatalf("subscribe %s: %v", topic, err)
		}
	}
	if _, err := broker.Subscribe(b, topics[0], func(context.Context, string, broker.Headers, *order) error { return nil },
		broker.WithQueueName(group)); err == nil {
		t.Error("second subscription of the same (group, topic) succeeded")
	}
	for i, topic := range topics {
		if err := b.Publish(context.Background(), topic, &order{ID: i}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 30*time.Second, "one message per topic", func() bool { return rec.len() == 2 })
	got := map[string]int{}
	for _, e := range rec.all() {
		got[e.topic] = e.body.(*order).ID
	}
	for i, topic := range topics {
		if id, ok := got[topic]; !ok || id != i {
			t.Errorf("topic %s: got %v", topic, got)
		}
	}
}

func TestPublishBeforeConnect(t *testing.T) {
	b := New(WithNameServer([]string{"127.0.0.1:1"}))
	if err := b.Publish(context.Background(), "t", "x"); err != ErrNotConnected {
		t.Errorf("Publish before Connect = %v, want ErrNotConnected", err)
	}
	if _, err := b.Subscribe("t", func(context.Context, broker.Event) error { return nil }, nil); err != ErrNotConnected {
		t.Errorf("Subscribe before Connect = %v, want ErrNotConnected", err)
	}
}

func TestNewBrokerDrivers(t *testing.T) {
	for _, tc := range []struct {
		driver DriverType
		ok     bool
	}{
		{DriverTypeV2, true}, {DriverTypeV5, true}, {DriverTypeAliyun, true}, {"kafka", false},
	} {
		t.Run(string(tc.driver), func(t *testing.T) {
			b, err := NewBroker(tc.driver, WithNameServer([]string{"127.0.0.1:1"}))
			if b == nil {
				t.Fatal("nil broker")
			}
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				if cerr := b.Connect(); cerr == nil || cerr.Error() != err.Error() {
					t.Errorf("Connect = %v, want %v", cerr, err)
				}
				if tc.driver != "kafka" && !errors.Is(err, ErrDriverUnavailable) {
					t.Errorf("err = %v, want ErrDriverUnavailable", err)
				}
			}
		})
	}
	for _, d := range []DriverType{DriverTypeV2, DriverTypeV5, DriverTypeAliyun} {
		if _, err := NewBroker(d, broker.WithCodec("nope")); err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("%s: unknown codec: err = %v, want one naming it", d, err)
		}
	}
	if b, _ := NewBroker(DriverTypeV5); b.Name() != "rocketmq-v5-grpc" || b.Address() != DefaultProxyEndpoint {
		t.Errorf("v5 driver: %s at %s", b.Name(), b.Address())
	}
	if b, _ := NewBroker(DriverTypeAliyun); b.Name() != "aliyun-mq-http" || b.Address() != DefaultHTTPEndpoint {
		t.Errorf("aliyun driver: %s at %s", b.Name(), b.Address())
	}
}
