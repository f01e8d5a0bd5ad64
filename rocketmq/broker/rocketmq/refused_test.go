package rocketmq

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/message"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// TestIgnoredOptionsAreRefused: an option the driver would not honour for what it is
// given with is an error naming the option, never silently dropped.
func TestIgnoredOptionsAreRefused(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic := rmqtest.Name(t, "T")
	ensureTopic(t, b, topic)
	noop := func(context.Context, broker.Event) error { return nil }
	ctx := context.Background()

	t.Run("subscribe", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts []broker.SubscribeOption
			want string
		}{
			{"retry delay on orderly", []broker.SubscribeOption{WithOrderly(), WithRetryDelayLevel(2)}, "WithRetryDelayLevel: an orderly subscription"},
			{"retry delay on broadcast", []broker.SubscribeOption{WithConsumerModel(MessageModelBroadCasting), WithRetryDelayLevel(2)}, "WithRetryDelayLevel: a broadcast subscription"},
			{"suspend interval on clustering", []broker.SubscribeOption{WithSuspendInterval(time.Second)}, "WithSuspendInterval: a clustering subscription"},
			{"consume timeout on orderly", []broker.SubscribeOption{WithOrderly(), WithConsumeTimeout(time.Minute)}, "WithConsumeTimeout: rocketmq-client-go/v2 has no consume timeout for orderly"},
			{"negative reconsume times", []broker.SubscribeOption{WithMaxReconsumeTimes(-1)}, "WithMaxReconsumeTimes(-1)"},
			{"negative concurrency", []broker.SubscribeOption{WithConcurrency(-2)}, "WithConcurrency(-2)"},
			{"empty SQL", []broker.SubscribeOption{WithSQLSelector(" ")}, "WithSQLSelector: empty expression"},
			{"timestamp without from", []broker.SubscribeOption{func(o *broker.SubscribeOptions) { o.ConsumeTimestamp = time.Now() }}, "ConsumeTimestamp is set"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				opts := append([]broker.SubscribeOption{broker.WithQueueName(rmqtest.Name(t, "G"))}, tc.opts...)
				sub, err := b.Subscribe(topic, noop, nil, opts...)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					if sub != nil {
						_ = sub.Unsubscribe(true)
					}
					t.Fatalf("Subscribe = %v, want an error containing %q", err, tc.want)
				}
			})
		}
	})
	t.Run("publish", func(t *testing.T) {
		async := WithAsync(func(context.Context, *broker.PublishResult, error) {})
		tx := WithTransaction(func(context.Context, *broker.Message) broker.TransactionState { return broker.TransactionCommit })
		var res broker.PublishResult
		for _, tc := range []struct {
			name string
			opts []broker.PublishOption
			want string
		}{
			{"oneway and async", []broker.PublishOption{WithOneway(), async}, "WithOneway and WithAsync exclude each other"},
			{"async transaction", []broker.PublishOption{tx, async}, "WithTransaction sends synchronously"},
			{"delayed transaction", []broker.PublishOption{tx, WithDelayTimeLevel(2)}, "does not delay transactional messages"},
			{"result of a oneway send", []broker.PublishOption{WithOneway(), broker.WithPublishResult(&res)}, "WithPublishResult needs a synchronous send"},
			{"negative delay", []broker.PublishOption{WithDelayTimeLevel(-1)}, "WithDelayTimeLevel(-1)"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := b.Publish(ctx, topic, []byte("x"), tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Publish = %v, want an error containing %q", err, tc.want)
				}
			})
		}
	})
	t.Run("request", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			msg  broker.Any
			opts []broker.PublishOption
			want string
		}{
			{"async", []byte("q"), []broker.PublishOption{WithAsync(func(context.Context, *broker.PublishResult, error) {})}, "WithAsync does not apply to a request"},
			{"oneway", []byte("q"), []broker.PublishOption{WithOneway()}, "WithOneway does not apply to a request"},
			{"result", []byte("q"), []broker.PublishOption{broker.WithPublishResult(&broker.PublishResult{})}, "WithPublishResult does not apply"},
			{"batch", broker.Batch{[]byte("a")}, nil, "a batch cannot be a request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := b.Request(ctx, topic, tc.msg, broker.WithRequestPublishOptions(tc.opts...), broker.WithRequestTimeout(time.Second))
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Request = %v, want an error containing %q", err, tc.want)
				}
			})
		}
	})
}

// TestReplyOptions: a reply carries the tag and keys it is given, and refuses the
// options that cannot apply to it.
func TestReplyOptions(t *testing.T) {
	ns, mb := rmqtest.Start(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	var refused atomic.Value
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		if err := broker.Reply(ctx, "no", WithShardingKey("k")); err != nil {
			refused.Store(err.Error())
		}
		return broker.Reply(ctx, &order{ID: o.ID + 1}, WithTag("answer"), WithKeys([]string{"reply-key"}))
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	var reply *order
	for i := 0; i < 10 && reply == nil; i++ { // the first requests may precede the producer's heartbeat
		v, err := b.Request(context.Background(), topic, &order{ID: 1}, broker.WithRequestTimeout(3*time.Second),
			broker.WithReplyBinder(broker.NewBinder[order]()))
		if err == nil {
			reply = v.(*order)
		}
	}
	if reply == nil || reply.ID != 2 {
		t.Fatalf("reply = %+v", reply)
	}
	if msg, _ := refused.Load().(string); !strings.Contains(msg, "WithShardingKey does not apply to a reply") {
		t.Errorf("Reply with a sharding key = %q, want it refused", msg)
	}
	if mb == nil {
		return // the stored reply is read through the embedded broker's hooks
	}
	poll.Until(t, 10*time.Second, "the reply stored with its tag and keys", func() bool {
		for q := 0; q < 8; q++ {
			msgs, _ := mb.Messages("DefaultCluster_REPLY_TOPIC", q)
			for _, m := range msgs {
				tag, _ := message.Property(m.Properties, "TAGS")
				if tag == "answer" && strings.Contains(strings.Join(message.Keys(m.Properties), " "), "reply-key") {
					return true
				}
			}
		}
		return false
	})
}

// TestUnsubscribe: Unsubscribe(false) keeps the subscription (and says so),
// Unsubscribe(true) stops its topic while the group's other topic goes on.
func TestUnsubscribe(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topicA, topicB, group := rmqtest.Name(t, "A"), rmqtest.Name(t, "B"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topicA)
	ensureTopic(t, b, topicB)
	var gotA, gotB atomic.Int32
	count := func(n *atomic.Int32) broker.Handler {
		return func(_ context.Context, e broker.Event) error {
			if !isWarmup(e.Message().Headers) {
				n.Add(1)
			}
			return nil
		}
	}
	subA, err := b.Subscribe(topicA, count(&gotA), nil, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe(topicB, count(&gotB), nil, broker.WithQueueName(group), WithConsumeFromFirst()); err != nil {
		t.Fatal(err)
	}
	if err := subA.Unsubscribe(false); !errors.Is(err, ErrKeepSubscription) {
		t.Fatalf("Unsubscribe(false) = %v, want ErrKeepSubscription", err)
	}
	publish := func(topic string) {
		t.Helper()
		if err := b.Publish(context.Background(), topic, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	publish(topicA)
	poll.Until(t, 30*time.Second, "topic A still consumed after Unsubscribe(false)", func() bool { return gotA.Load() == 1 })
	if err := subA.Unsubscribe(true); err != nil {
		t.Fatal(err)
	}
	publish(topicA)
	publish(topicB)
	poll.Until(t, 30*time.Second, "topic B consumed after A was unsubscribed", func() bool { return gotB.Load() == 1 })
	time.Sleep(2 * time.Second)
	if n := gotA.Load(); n != 1 {
		t.Errorf("topic A delivered %d messages after Unsubscribe(true), want none more", n-1)
	}
}
