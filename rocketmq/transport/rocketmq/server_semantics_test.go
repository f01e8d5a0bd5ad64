package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// subscribeDLQ subscribes %DLQ%<group> on a started server as soon as the topic can be
// subscribed (a real 4.x broker creates it with the first dead letter) and returns the
// headers of what arrives there.
func subscribeDLQ(t *testing.T, srv *Server, group string) <-chan broker.Headers {
	t.Helper()
	dead := make(chan broker.Headers, 16)
	reader := rmqtest.Name(t, "DLQ")
	poll.Until(t, 90*time.Second, "a subscription of the dead-letter topic", func() bool {
		return srv.RegisterSubscriber(context.Background(), "%DLQ%"+group, reader, func(_ context.Context, evt broker.Event) error {
			dead <- evt.Message().Headers
			return nil
		}, nil, rmq.WithConsumeFromFirst()) == nil
	})
	return dead
}

// TestServerPoisonGoesToDLQAtOnce: a body the codec cannot decode never reaches the
// handler and lands in the dead-letter queue without a retry.
func TestServerPoisonGoesToDLQAtOnce(t *testing.T) {
	forDrivers(t, allDrivers, nil, func(t *testing.T, e *driverEnv) {
		srv := e.server()
		topic, group := e.topic("NORMAL"), e.group(false)
		var calls atomic.Int32
		err := RegisterSubscriber(srv, context.Background(), topic, group,
			func(_ context.Context, _ string, h broker.Headers, o *order) error {
				if !isWarmup(h) {
					calls.Add(1)
				}
				return nil
			}, rmq.WithConsumeFromFirst(), rmq.WithMaxReconsumeTimes(5), e.retryDelay(4))
		if err != nil {
			t.Fatal(err)
		}
		start(t, srv)
		dead := subscribeDLQ(t, srv, group)
		// Retried, the message would reach the DLQ after 5 back-offs of 30 s (delay
		// level 4; aliyun: 5 invisible times); at once it is there well within the wait.
		if err := srv.Publish(context.Background(), topic, []byte("not json"), rmq.WithKeys([]string{"poison"})); err != nil {
			t.Fatal(err)
		}
		select {
		case h := <-dead:
			if h[rmq.HeaderKeys] != "poison" {
				t.Errorf("dead letter headers = %v", h)
			}
			if rc := h[rmq.HeaderReconsumeTimes]; rc != "0" && rc != "1" {
				t.Errorf("reconsume times of the dead letter = %s: it was retried first", rc)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("nothing in the DLQ within a minute: not dead-lettered at once")
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("handler called %d times for an undecodable body", n)
		}
	})
}

// transactionBroker makes the embedded broker check unresolved transactions quickly.
var transactionBroker = []minirocketmq.Option{
	minirocketmq.WithTransactionCheckInterval(300 * time.Millisecond),
	minirocketmq.WithTransactionTimeout(200 * time.Millisecond),
}

// TestServerTransactionsWithCheckBack: commit is delivered, rollback is not, and an
// unknown outcome is settled by the checker when the broker asks back. The v2 subtest
// is TestNoRaceServerTransactionsWithCheckBack (the client races when it answers a
// check-back).
func TestServerTransactionsWithCheckBack(t *testing.T) {
	forDrivers(t, raceFree, transactionBroker, testTransactionsWithCheckBack)
}

func testTransactionsWithCheckBack(t *testing.T, e *driverEnv) {
	var checked atomic.Int32
	checker := func(_ context.Context, m *broker.Message) broker.TransactionState {
		if m.Headers["tx"] == "" {
			return broker.TransactionRollback // a probe of the v2 driver
		}
		checked.Add(1)
		if m.Headers["tx"] == "unknown" {
			return broker.TransactionCommit
		}
		return broker.TransactionRollback
	}
	srv := e.server(WithGroupName(rmqtest.Name(t, "PG")), WithBrokerOptions(rmq.WithTransactionChecker(checker)))
	topic, group := e.topic("TRANSACTION"), e.group(false)
	var mu sync.Mutex
	var got []string
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(_ context.Context, _ string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				mu.Lock()
				got = append(got, o.Note)
				mu.Unlock()
			}
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	publish := func(kind string, state broker.TransactionState) error {
		return srv.Publish(context.Background(), topic, &order{Note: kind}, rmq.WithProperties(map[string]string{"tx": kind}),
			rmq.WithTransaction(func(context.Context, *broker.Message) broker.TransactionState { return state }))
	}
	if err := publish("commit", broker.TransactionCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := publish("rollback", broker.TransactionRollback); !errors.Is(err, rmq.ErrRolledBack) {
		t.Fatalf("rollback: %v, want ErrRolledBack", err)
	}
	if err := publish("unknown", broker.TransactionUnknown); err != nil {
		t.Fatalf("unknown: %v", err)
	}
	poll.Until(t, 60*time.Second, "the committed and the checked-back message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(got)
	if fmt.Sprint(got) != "[commit unknown]" {
		t.Errorf("delivered %v, want [commit unknown]", got)
	}
	if checked.Load() == 0 {
		t.Error("the checker was never asked")
	}
}

// TestServerFIFOOrder: an orderly subscription gets each sharding key's (message
// group's) messages in publish order, one at a time even when a batch holds several
// of them, and a failed message is retried before its successors. The v2 subtest is TestNoRaceServerFIFOOrder (the client's orderly
// consumer races with itself).
func TestServerFIFOOrder(t *testing.T) {
	forDrivers(t, raceFree, nil, testFIFOOrder)
}

func testFIFOOrder(t *testing.T, e *driverEnv) {
	topic, group := e.topic("FIFO"), e.group(true)
	// The backlog is stored before the subscriber starts, so that a receive holds a
	// run of one group's messages (as a real broker's orderly pop hands out): the
	// driver must handle them one after the other.
	pub := e.server()
	start(t, pub)
	const perGroup = 10
	groups := []string{"g1", "g2", "g3"}
	for i := range perGroup {
		for _, g := range groups {
			if err := pub.Publish(context.Background(), topic, &order{ID: i, Note: g}, rmq.WithShardingKey(g)); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := e.server()
	var (
		mu       sync.Mutex
		seen     = map[string][]int{}
		running  = map[string]int{}
		overlaps []string
		failed   bool
	)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(_ context.Context, _ string, h broker.Headers, o *order) error {
			if isWarmup(h) {
				return nil
			}
			mu.Lock()
			running[o.Note]++
			if running[o.Note] > 1 {
				overlaps = append(overlaps, fmt.Sprintf("%s/%d", o.Note, o.ID))
			}
			mu.Unlock()
			// slow, the earlier ones slower: a driver that let a group's next message
			// start before this one ended would overlap them and record them out of order
			time.Sleep(time.Duration(perGroup-o.ID) * 3 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			running[o.Note]--
			if o.Note == "g1" && o.ID == 3 && !failed {
				failed = true
				return errors.New("fail once")
			}
			seen[o.Note] = append(seen[o.Note], o.ID)
			return nil
		}, rmq.WithConsumeFromFirst(), rmq.WithOrderly(), e.suspend(100*time.Millisecond), rmq.WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	poll.Until(t, 60*time.Second, "every message of every group", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range groups {
			if len(seen[g]) < perGroup {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for _, g := range groups {
		want := make([]int, perGroup)
		for i := range want {
			want[i] = i
		}
		if fmt.Sprint(seen[g]) != fmt.Sprint(want) {
			t.Errorf("group %s handled %v, want %v", g, seen[g], want)
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("handlers of one message group ran side by side: %v", overlaps)
	}
	if !failed {
		t.Error("the failure never happened")
	}
}

// TestServerCrossProtocol: a message published through the v2 driver (remoting)
// reaches the handler of a server of each other driver (v5: gRPC, aliyun: HTTP) and
// the other way round, with its tag, keys and properties.
func TestServerCrossProtocol(t *testing.T) {
	forDrivers(t, raceFree, nil, testCrossProtocol)
}

func testCrossProtocol(t *testing.T, e *driverEnv) {
	other := e.server()
	v2e := *e
	v2e.driver = DriverTypeV2
	v2 := v2e.server()
	start(t, other)
	start(t, v2)
	for _, tc := range []struct {
		name     string
		pub, sub *Server
	}{
		{"remoting producer to " + string(e.driver) + " consumer", v2, other},
		{string(e.driver) + " producer to remoting consumer", other, v2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &driverEnv{t: t, driver: e.driver, ns: e.ns, mini: e.mini}
			topic, group := e.topic("NORMAL"), e.group(false)
			got := make(chan broker.Headers, 4)
			var body atomic.Value
			err := RegisterSubscriber(tc.sub, context.Background(), topic, group,
				func(_ context.Context, _ string, h broker.Headers, o *order) error {
					if !isWarmup(h) {
						body.Store(*o)
						got <- h
					}
					return nil
				}, rmq.WithConsumeFromFirst())
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.pub.Publish(context.Background(), topic, &order{ID: 5, Note: tc.name}, rmq.WithTag("tagX"),
				rmq.WithKeys([]string{"key1", "key2"}), rmq.WithProperties(map[string]string{"color": "blue"})); err != nil {
				t.Fatal(err)
			}
			select {
			case h := <-got:
				for k, v := range map[string]string{rmq.HeaderTags: "tagX", rmq.HeaderKeys: "key1 key2", "color": "blue", rmq.HeaderTopic: topic} {
					if h[k] != v {
						t.Errorf("header %s = %q, want %q", k, h[k], v)
					}
				}
				if o := body.Load().(order); o != (order{ID: 5, Note: tc.name}) {
					t.Errorf("body = %+v", o)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no delivery")
			}
		})
	}
}
