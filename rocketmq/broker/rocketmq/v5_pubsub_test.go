package rocketmq

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

func TestV5PublishSubscribeTyped(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	var rec recorder
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, tp string, h broker.Headers, o *order) error {
		rec.add(ctx, tp, h, o)
		return nil
	}, broker.WithQueueName(group))
	if err != nil {
		t.Fatal(err)
	}
	var res broker.PublishResult
	err = b.Publish(context.Background(), topic, &order{ID: 7, Note: "hi"},
		WithTag("created"), WithKeys([]string{"k1", "k2"}), WithProperties(map[string]string{"tenant": "acme"}),
		broker.WithPublishResult(&res))
	if err != nil {
		t.Fatal(err)
	}
	if res.ID == "" || res.Topic != topic {
		t.Errorf("publish result = %+v", res)
	}
	poll.Until(t, 10*time.Second, "the delivery", func() bool { return rec.len() == 1 })
	got := rec.all()[0]
	if o := got.body.(*order); *o != (order{ID: 7, Note: "hi"}) || got.topic != topic {
		t.Errorf("delivered %s %+v", got.topic, o)
	}
	want := map[string]string{HeaderTags: "created", HeaderKeys: "k1 k2", "tenant": "acme",
		HeaderTopic: topic, HeaderMessageID: res.ID, HeaderReconsumeTimes: "0"}
	for k, v := range want {
		if got.headers[k] != v {
			t.Errorf("header %s = %q, want %q (all: %v)", k, got.headers[k], v, got.headers)
		}
	}
	// acknowledged: nothing pending for the group
	poll.Until(t, 5*time.Second, "the ack", func() bool {
		s := e.mini.PopStats(group, topic)
		return s.InFlight == 0 && s.Ready == 0
	})
}

func TestV5TagSelectorAndSeveralTopics(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	t1, t2, group := e.topic("NORMAL"), e.topic("NORMAL"), e.group(false, 0)
	r1 := collectV5(t, b, t1, group, WithTagSelector("a || b"))
	r2 := collectV5(t, b, t2, group, WithTagSelector("a || b"))
	ctx := context.Background()
	for _, tag := range []string{"a", "c", "b"} {
		for _, tp := range []string{t1, t2} {
			if err := b.Publish(ctx, tp, "body-"+tag, WithTag(tag)); err != nil {
				t.Fatal(err)
			}
		}
	}
	poll.Until(t, 10*time.Second, "a and b on both topics", func() bool { return r1.len() == 2 && r2.len() == 2 })
	for _, r := range []*recorder{r1, r2} {
		for _, ev := range r.all() {
			if tag := ev.headers[HeaderTags]; tag == "c" {
				t.Errorf("tag c delivered on %s", ev.topic)
			}
		}
	}
	if _, err := b.Subscribe(t1, func(context.Context, broker.Event) error { return nil }, nil, broker.WithQueueName(group), WithTagSelector("a || b")); err == nil {
		t.Error("a second subscription of the same topic in the group was accepted")
	}
	if _, err := b.Subscribe(e.topic("NORMAL"), func(context.Context, broker.Event) error { return nil }, nil,
		broker.WithQueueName(group), WithConcurrency(3)); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("a topic with other group settings: %v", err)
	}
}

func TestV5AsyncOnewayBatch(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	rec := collectV5(t, b, topic, group)
	ctx := context.Background()
	done := make(chan error, 1)
	if err := b.Publish(ctx, topic, "async", WithAsync(func(_ context.Context, res *broker.PublishResult, err error) {
		if err == nil && (res == nil || res.ID == "") {
			err = errors.New("no result")
		}
		done <- err
	})); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("async: %v", err)
	}
	if err := b.Publish(ctx, topic, "oneway", WithOneway()); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, topic, broker.Batch{"b1", "b2", "b3"}, WithTag("batch")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "5 messages", func() bool { return rec.len() == 5 })
	bodies := map[string]bool{}
	for _, ev := range rec.all() {
		bodies[string(ev.body.([]byte))] = true
	}
	for _, want := range []string{"async", "oneway", "b1", "b2", "b3"} {
		if !bodies[want] {
			t.Errorf("%s not delivered (got %v)", want, bodies)
		}
	}
	if err := b.Publish(ctx, topic, broker.Batch{}); err == nil {
		t.Error("empty batch accepted")
	}
}

func TestV5PublishErrors(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	normal := e.topic("NORMAL")
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		topic string
		opts  []broker.PublishOption
		want  string
	}{
		{"unknown topic", rmqtest.Name(t, "NOPE"), nil, "TOPIC_NOT_FOUND"},
		{"FIFO message to a NORMAL topic", normal, []broker.PublishOption{WithShardingKey("g1")}, "message.type=FIFO"},
		{"delayed message to a NORMAL topic", normal, []broker.PublishOption{WithDelayTimeLevel(1)}, "message.type=DELAY"},
		{"transaction to a NORMAL topic", normal, []broker.PublishOption{WithTransaction(func(context.Context, *broker.Message) broker.TransactionState {
			return broker.TransactionCommit
		})}, "message.type=TRANSACTION"},
		{"two types", normal, []broker.PublishOption{WithShardingKey("g1"), WithDelayTimeLevel(1)}, "one type"},
		{"bad delay level", normal, []broker.PublishOption{WithDelayTimeLevel(19)}, "delay level 19"},
		{"reserved property", normal, []broker.PublishOption{WithProperties(map[string]string{"UNIQ_KEY": "x"})}, "ILLEGAL_MESSAGE_PROPERTY_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Publish(ctx, tc.topic, "x", tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Publish = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestV5DeliveryTime(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("DELAY"), e.group(false, 0)
	rec := collectV5(t, b, topic, group)
	sent := time.Now()
	if err := b.Publish(context.Background(), topic, "level", WithDelayTimeLevel(1)); err != nil { // 1 s
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, "timestamp", WithDeliveryTimestamp(sent.Add(1500*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "both timed messages", func() bool { return rec.len() == 2 })
	for _, ev := range rec.all() {
		// arrival can only be later than due, never earlier
		due := map[string]time.Duration{"level": time.Second, "timestamp": 1500 * time.Millisecond}[string(ev.body.([]byte))]
		if d := time.Since(sent); d < due {
			t.Errorf("%s arrived %v after the send, due after %v", ev.body, d, due)
		}
	}
}

func TestV5UnsupportedOptionsNameTheOption(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic := e.topic("NORMAL")
	h := func(context.Context, broker.Event) error { return nil }
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"broadcast", func() error {
			_, err := b.Subscribe(topic, h, nil, broker.WithQueueName("g"), WithConsumerModel(MessageModelBroadCasting))
			return err
		}, "WithConsumerModel(BroadCasting)"},
		{"consume from timestamp", func() error {
			_, err := b.Subscribe(topic, h, nil, broker.WithQueueName("g"), WithConsumeFromTimestamp(time.Now()))
			return err
		}, "WithConsumeFromTimestamp"},
		{"request-reply", func() error {
			_, err := b.Request(context.Background(), topic, "x")
			return err
		}, "Request"},
		{"orderly on a group that is not FIFO", func() error {
			_, err := b.Subscribe(topic, h, nil, broker.WithQueueName(rmqtest.Name(t, "G")), WithOrderly())
			return err
		}, "WithOrderly needs a FIFO consumer group"},
		{"message trace", func() error { return NewV5(WithEnableTrace()).Init() }, "WithEnableTrace"},
		{"name server domain", func() error { return NewV5(WithNameServerDomain("http://x")).Init() }, "WithNameServerDomain"},
		{"endpoint without port", func() error { return NewV5(WithNameServer([]string{"localhost"})).Init() }, "host:port"},
		{"subscribe to a missing topic", func() error {
			_, err := b.Subscribe(rmqtest.Name(t, "NOPE"), h, nil, broker.WithQueueName("g"))
			return err
		}, "TOPIC_NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestV5ConnectFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr string
	}{
		{"nothing listening", "127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			b := NewV5(WithNameServer([]string{tc.addr}), broker.WithLogger(testLogger()), WithSendTimeout(time.Second))
			if err := b.Connect(); err == nil {
				_ = b.Disconnect()
				t.Fatal("Connect succeeded")
			}
			if err := b.Publish(context.Background(), "t", "x"); !errors.Is(err, ErrNotConnected) {
				t.Errorf("Publish after a failed Connect = %v", err)
			}
		})
	}
}

// TestV5LifecycleAndNoLeaks: the clients the server sees come and go with Connect,
// Subscribe, Unsubscribe and Disconnect, and nothing of the driver outlives it.
func TestV5LifecycleAndNoLeaks(t *testing.T) {
	e := newV5Env(t)
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	leaks := goleak.IgnoreCurrent()
	func() {
		b := NewV5(WithNameServer([]string{e.mini.GRPCAddr()}), broker.WithLogger(testLogger()), WithInstanceName("lifecycle"))
		if err := b.Connect(); err != nil {
			t.Fatal(err)
		}
		kinds := func() map[string]int {
			out := map[string]int{}
			for _, c := range e.mini.GRPCClients() {
				if strings.Contains(c.ClientID, "lifecycle") {
					out[c.Type]++
				}
			}
			return out
		}
		if k := kinds(); k["PRODUCER"] != 1 || len(k) != 1 {
			t.Errorf("after Connect the server knows %v", k)
		}
		sub := collectV5(t, b, topic, group)
		_ = sub
		if err := b.Publish(context.Background(), topic, "x"); err != nil {
			t.Fatal(err)
		}
		for _, c := range e.mini.GRPCClients() {
			switch {
			case !strings.Contains(c.ClientID, "lifecycle"):
			case c.Type == "PRODUCER" && (len(c.Topics) != 1 || !strings.HasSuffix(c.Topics[0], topic)):
				t.Errorf("producer topics = %v, want [%s]", c.Topics, topic)
			case c.Type == "PUSH_CONSUMER" && !strings.HasSuffix(c.Group, group):
				t.Errorf("consumer group = %q", c.Group)
			}
		}
		poll.Until(t, 10*time.Second, "the delivery", func() bool { return sub.len() == 1 })
		if k := kinds(); k["PRODUCER"] != 1 || k["PUSH_CONSUMER"] != 1 {
			t.Errorf("after Subscribe the server knows %v", k)
		}
		if err := b.Disconnect(); err != nil {
			t.Fatal(err)
		}
		if k := kinds(); len(k) != 0 {
			t.Errorf("after Disconnect the server still knows %v", k)
		}
	}()
	goleak.VerifyNone(t, leaks)
}

// TestV5ServerSettingsApplied: the group's retry limit comes from the server's answer
// to the client's settings (retryMaxTimes 1: 2 attempts), and the driver forwards the
// message to the DLQ itself on the last one. The broker's clock is manual and never
// advanced after the second attempt, so the server's own rule (dead-letter when the
// last delivery's invisible time ends) cannot be what moved it.
func TestV5ServerSettingsApplied(t *testing.T) {
	clk := minirocketmq.NewManualClock(time.Now())
	e := newV5Env(t, minirocketmq.WithClock(clk))
	b := e.connect()
	topic, group := e.topic("NORMAL"), e.group(false, 1)
	var attempts atomic.Int32
	_, err := b.Subscribe(topic, func(context.Context, broker.Event) error {
		attempts.Add(1)
		return errors.New("always fails")
	}, nil, broker.WithQueueName(group), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	dlq := collectV5(t, b, "%DLQ%"+group, e.group(false, 0))
	if err := b.Publish(context.Background(), topic, "x"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the first attempt", func() bool { return attempts.Load() == 1 })
	poll.Until(t, 10*time.Second, "the second attempt after the back-off", func() bool {
		clk.Advance(100 * time.Millisecond) // the back-off is 1 s of broker time
		return attempts.Load() == 2
	})
	poll.Until(t, 10*time.Second, "the dead letter", func() bool { return dlq.len() == 1 })
	if n := attempts.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2 (the server's retryMaxTimes 1 + 1)", n)
	}
}

func TestV5BeforeConnect(t *testing.T) {
	b := NewV5(WithNameServer([]string{"127.0.0.1:1"}))
	if err := b.Publish(context.Background(), "t", "x"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Publish before Connect = %v, want ErrNotConnected", err)
	}
	if _, err := b.Subscribe("t", func(context.Context, broker.Event) error { return nil }, nil, broker.WithQueueName("g")); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Subscribe before Connect = %v, want ErrNotConnected", err)
	}
	if err := b.Drain(context.Background()); err != nil {
		t.Errorf("Drain before Connect = %v", err)
	}
	if err := b.Disconnect(); err != nil {
		t.Errorf("Disconnect before Connect = %v", err)
	}
}

// TestV5MessageFromTheWire: whatever a server sends, building headers and reading the
// body never panics, and a damaged body is told apart from an undecodable one.
func TestV5MessageFromTheWire(t *testing.T) {
	for _, m := range []*v2.Message{
		{},
		{SystemProperties: &v2.SystemProperties{}},
		{SystemProperties: &v2.SystemProperties{BodyEncoding: v2.Encoding_GZIP}, Body: []byte("not gzip")},
	} {
		_ = v5Headers("t", m, m.GetSystemProperties().GetDeliveryAttempt())
		_, _ = v5Body(m)
	}
	damaged := &v2.Message{Body: []byte("abc"), SystemProperties: &v2.SystemProperties{
		BodyDigest: &v2.Digest{Type: v2.DigestType_MD5, Checksum: "00000000000000000000000000000000"}}}
	if _, err := v5Body(damaged); !errors.Is(err, errCorrupted) {
		t.Errorf("damaged body: %v", err)
	}
	good := &v2.Message{Body: []byte("abc"), SystemProperties: &v2.SystemProperties{
		BodyDigest: &v2.Digest{Type: v2.DigestType_CRC32, Checksum: "352441C2"}}}
	if b, err := v5Body(good); err != nil || string(b) != "abc" {
		t.Errorf("good body: %q %v", b, err)
	}
}

func TestNextAttemptDelay(t *testing.T) {
	custom := &v2.RetryPolicy{Strategy: &v2.RetryPolicy_CustomizedBackoff{CustomizedBackoff: &v2.CustomizedBackoff{
		Next: []*durationpb.Duration{durationpb.New(time.Second), durationpb.New(5 * time.Second)}}}}
	expo := &v2.RetryPolicy{Strategy: &v2.RetryPolicy_ExponentialBackoff{ExponentialBackoff: &v2.ExponentialBackoff{
		Initial: durationpb.New(100 * time.Millisecond), Max: durationpb.New(time.Second), Multiplier: 2}}}
	for _, tc := range []struct {
		p       *v2.RetryPolicy
		attempt int32
		want    time.Duration
	}{
		{custom, 1, time.Second}, {custom, 2, 5 * time.Second}, {custom, 9, 5 * time.Second}, {custom, 0, time.Second},
		{expo, 1, 100 * time.Millisecond}, {expo, 3, 400 * time.Millisecond}, {expo, 10, time.Second},
		{nil, 1, 10 * time.Second},
	} {
		if got := nextAttemptDelay(tc.p, tc.attempt); got != tc.want {
			t.Errorf("attempt %d: %v, want %v", tc.attempt, got, tc.want)
		}
	}
}
