package rocketmq

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/acl"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// The tests of this file check that an option reaches the client and the broker: each
// fails when the option is dropped on its way (see the report of issue 15).

// ids collects the order ids a handler saw.
type ids struct {
	mu  sync.Mutex
	got []int
}

func (s *ids) add(id int) {
	s.mu.Lock()
	s.got = append(s.got, id)
	s.mu.Unlock()
}

func (s *ids) sorted() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.got))
}

// collect subscribes topic in group and records the ids of the (non-warm-up) orders.
func collect(t *testing.T, b *Broker, topic, group string, opts ...broker.SubscribeOption) *ids {
	t.Helper()
	got := &ids{}
	_, err := broker.Subscribe(b, topic, func(_ context.Context, _ string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			got.add(o.ID)
		}
		return nil
	}, append([]broker.SubscribeOption{broker.WithQueueName(group)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func publishOrders(t *testing.T, b *Broker, topic string, from, to int, opts ...broker.PublishOption) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := b.Publish(context.Background(), topic, &order{ID: i}, opts...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCredentials: on a broker that checks ACL signatures, a driver with the account's
// credentials publishes and consumes; without them, or with a wrong secret, the broker
// refuses its sends.
func TestCredentials(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs an embedded broker with ACL on")
	}
	v, err := acl.Parse([]byte("accounts:\n  - accessKey: app-key\n    secretKey: app-secret\n    defaultTopicPerm: PUB|SUB\n    defaultGroupPerm: PUB|SUB\n"))
	if err != nil {
		t.Fatal(err)
	}
	mb := minirocketmq.RunT(t, minirocketmq.WithACL(v))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := mb.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}
	b := newTestBroker(t, mb.Addr(), WithCredentials("app-key", "app-secret", ""))
	got := collect(t, b, topic, group, WithConsumeFromFirst())
	publishOrders(t, b, topic, 1, 3)
	poll.Until(t, 30*time.Second, "the signed messages consumed", func() bool { return len(got.sorted()) == 3 })

	for _, tc := range []struct {
		name string
		opts []broker.Option
		want string
	}{
		{"no credentials", nil, "No accessKey"},
		{"wrong secret", []broker.Option{WithCredentials("app-key", "not-the-secret", "")}, "Check signature failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := newTestBroker(t, mb.Addr(), tc.opts...)
			err := other.Publish(context.Background(), topic, &order{ID: 99})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Publish = %v, want the broker's refusal (%s)", err, tc.want)
			}
		})
	}
}

// TestNamespace: a namespaced producer's message is stored under ns%topic; a consumer in
// the same namespace gets it (the handler sees the plain topic), a consumer of the plain
// topic without the namespace does not.
func TestNamespace(t *testing.T) {
	ns, mb := rmqtest.Start(t)
	topic := rmqtest.Name(t, "T")
	spaced := newTestBroker(t, ns, WithNamespace("tenant1"))
	plain := newTestBroker(t, ns)
	ensureTopic(t, spaced, topic)
	ensureTopic(t, plain, topic) // the plain topic exists too, so its consumer can start
	inSpace := collect(t, spaced, topic, rmqtest.Name(t, "G"), WithConsumeFromFirst())
	outside := collect(t, plain, topic, rmqtest.Name(t, "G"), WithConsumeFromFirst())
	publishOrders(t, spaced, topic, 1, 1)
	poll.Until(t, 30*time.Second, "the namespaced consumer to get the message", func() bool { return len(inSpace.sorted()) == 1 })
	if mb != nil {
		if n := storedOrders(t, mb, "tenant1%"+topic); n != 1 {
			t.Errorf("%d orders stored under tenant1%%%s, want 1", n, topic)
		}
		if n := storedOrders(t, mb, topic); n != 0 {
			t.Errorf("%d orders stored under the plain topic %s, want none", n, topic)
		}
	}
	time.Sleep(2 * time.Second)
	if got := outside.sorted(); len(got) != 0 {
		t.Errorf("a consumer outside the namespace got %v", got)
	}
}

// storedOrders counts the messages of topic the broker holds, warm-ups aside.
func storedOrders(t *testing.T, mb *minirocketmq.Broker, topic string) int {
	t.Helper()
	tc, ok := mb.Topic(topic)
	if !ok {
		return 0
	}
	n := 0
	for q := 0; q < tc.WriteQueueNums; q++ {
		msgs, err := mb.Messages(topic, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if !strings.Contains(m.Properties, headerWarmup) {
				n++
			}
		}
	}
	return n
}

// TestConsumeFrom: where a new group starts in a queue whose first messages are no
// longer at hand. The broker answers a new group's offset query with "not found" then
// (the embedded broker, like the real one, says offset 0 instead while the queue's first
// message is in memory: a control makes it answer as for an old queue), and the client
// applies the option: the first offset, the last, or the first message stored at the
// timestamp, given here in a zone other than UTC.
func TestConsumeFrom(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs the embedded broker's request controls")
	}
	mb := minirocketmq.RunT(t)
	b := newTestBroker(t, mb.Addr())
	topic := rmqtest.Name(t, "T")
	if err := mb.CreateTopic(topic, 1); err != nil { // one queue: offsets follow publish order
		t.Fatal(err)
	}
	var newGroups sync.Map
	mb.Control(remoting.QueryConsumerOffset, func(req *minirocketmq.Request) *remoting.Command {
		if _, ok := newGroups.Load(req.Command.Get("consumerGroup")); ok {
			return remoting.NewResponse(req.Command, remoting.QueryNotFound, "offset not found")
		}
		return nil
	})
	publishOrders(t, b, topic, 1, 3)
	// Timestamps have a second's precision: the later messages are stored in a second
	// of their own, at least a second after the earlier ones.
	boundary := time.Now().Truncate(time.Second).Add(2 * time.Second)
	time.Sleep(time.Until(boundary))
	publishOrders(t, b, topic, 4, 6)
	zone := time.FixedZone("UTC+5", 5*60*60)
	for _, tc := range []struct {
		name string
		opt  broker.SubscribeOption
		post int   // the id published after the subscription (after those of earlier cases)
		want []int // what the group consumes
	}{
		{"first", WithConsumeFromFirst(), 7, []int{1, 2, 3, 4, 5, 6, 7}},
		{"timestamp", WithConsumeFromTimestamp(boundary.In(zone)), 8, []int{4, 5, 6, 7, 8}},
		{"last", WithConsumeFromLast(), 9, []int{9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := rmqtest.Name(t, "G")
			newGroups.Store(group, true)
			got := collect(t, b, topic, group, tc.opt)
			time.Sleep(3 * time.Second) // the consumer's first rebalance placed it
			publishOrders(t, b, topic, tc.post, tc.post)
			poll.Until(t, 30*time.Second, "the message published after the subscription", func() bool {
				return slices.Contains(got.sorted(), tc.post)
			})
			time.Sleep(time.Second)
			if g := got.sorted(); !slices.Equal(g, tc.want) {
				t.Errorf("consumed %v, want %v", g, tc.want)
			}
		})
	}
}

// TestConcurrency: WithConcurrency(3) runs at most three handlers of the group at once,
// and three do run together.
func TestConcurrency(t *testing.T) {
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	publishOrders(t, b, topic, 1, 10)
	release := make(chan struct{})
	var running, most, done atomic.Int32
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if isWarmup(h) {
			return nil
		}
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		running.Add(-1)
		done.Add(1)
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst(), WithConcurrency(3))
	if err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	poll.Until(t, 30*time.Second, "three handlers running", func() bool { return running.Load() >= 3 })
	time.Sleep(time.Second)
	if m := most.Load(); m != 3 {
		t.Errorf("%d handlers ran at once, want 3", m)
	}
	close(release)
	released = true
	poll.Until(t, 30*time.Second, "every message handled", func() bool { return done.Load() == 10 })
}

// TestSQL92Subscription: an SQL92 subscription gets the messages whose properties match
// and no other.
func TestSQL92Subscription(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs a broker with enablePropertyFilter=true (the embedded broker's default, not the real one's)")
	}
	ns := rmqtest.NameServer(t)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	got := collect(t, b, topic, group, WithConsumeFromFirst(), WithSQLSelector("n > 3 AND region = 'eu'"))
	for i := 1; i <= 6; i++ {
		region := "eu"
		if i == 6 {
			region = "us"
		}
		publishOrders(t, b, topic, i, i, WithProperties(map[string]string{"n": strconv.Itoa(i), "region": region}))
	}
	poll.Until(t, 30*time.Second, "the matching messages", func() bool { return len(got.sorted()) >= 2 })
	time.Sleep(2 * time.Second)
	if g := got.sorted(); fmt.Sprint(g) != "[4 5]" {
		t.Errorf("consumed %v, want [4 5] (n > 3 AND region = 'eu')", g)
	}
}
