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

	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/pop"
	"github.com/kratos-rocketmq/rocketmq/poll"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// TestV5RetryBackoffThenDLQ: a failing handler gets the message again after the
// back-off (WithRetryDelayLevel(1): 1 s) with the attempt counted, and after
// WithMaxReconsumeTimes redeliveries it is in %DLQ%<group>.
func TestV5RetryBackoffThenDLQ(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func() error
	}{
		{"error", func() error { return errors.New("boom") }},
		{"panic", func() error { panic("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newV5Env(t)
			b := e.connect()
			topic, group := e.topic("NORMAL"), e.group(false, 0)
			const maxRecon = 2
			var mu sync.Mutex
			var at []time.Time
			var reconsume []string
			_, err := b.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
				mu.Lock()
				at = append(at, time.Now())
				reconsume = append(reconsume, evt.Message().Headers[HeaderReconsumeTimes])
				mu.Unlock()
				return tc.fail()
			}, nil, broker.WithQueueName(group), WithMaxReconsumeTimes(maxRecon), WithRetryDelayLevel(1))
			if err != nil {
				t.Fatal(err)
			}
			dlq := collectV5(t, b, "%DLQ%"+group, e.group(false, 0))
			if err := b.Publish(context.Background(), topic, "x", WithKeys([]string{"dlq-me"})); err != nil {
				t.Fatal(err)
			}
			poll.Until(t, 20*time.Second, "the message in the DLQ", func() bool { return dlq.len() == 1 })
			if k := dlq.all()[0].headers[HeaderKeys]; k != "dlq-me" {
				t.Errorf("dead letter keys = %q", k)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(reconsume) != "[0 1 2]" {
				t.Errorf("reconsume times seen = %v, want [0 1 2]", reconsume)
			}
			for i := 1; i < len(at); i++ {
				if gap := at[i].Sub(at[i-1]); gap < 900*time.Millisecond {
					t.Errorf("attempt %d came %v after the previous one, before the 1 s back-off", i+1, gap)
				}
			}
		})
	}
}

func TestV5UndecodableAndErrDeadLetterGoToDLQAtOnce(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	var calls atomic.Int32
	_, err := broker.Subscribe(b, topic, func(_ context.Context, _ string, h broker.Headers, o *order) error {
		calls.Add(1)
		return fmt.Errorf("order %d refers to nothing: %w", o.ID, broker.ErrDeadLetter)
	}, broker.WithQueueName(group), WithMaxReconsumeTimes(5), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	dlq := collectV5(t, b, "%DLQ%"+group, e.group(false, 0))
	ctx := context.Background()
	if err := b.Publish(ctx, topic, []byte("not json"), WithKeys([]string{"garbage"})); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, topic, &order{ID: 9}, WithKeys([]string{"dead"})); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "both in the DLQ", func() bool { return dlq.len() == 2 })
	for _, ev := range dlq.all() {
		if rc := ev.headers[HeaderReconsumeTimes]; rc != "0" {
			t.Errorf("%s reached the DLQ with reconsume times %s: retried first", ev.headers[HeaderKeys], rc)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want once (the undecodable body never reaches it)", n)
	}
}

func TestV5AutoAckDisabled(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	var calls atomic.Int32
	_, err := b.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
		if calls.Add(1) == 2 {
			return evt.Ack()
		}
		return nil // no Ack: handed back
	}, nil, broker.WithQueueName(group), broker.DisableAutoAck(), WithRetryDelayLevel(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, "x"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the acknowledged second delivery", func() bool {
		s := e.mini.PopStats(group, topic)
		return calls.Load() == 2 && s.InFlight+s.Ready == 0
	})
}

// TestV5DrainWaitsAndUnfinishedComeBack: Drain stops receiving and waits for the
// running handler; messages received but not started are given back, and a new
// consumer of the group gets everything not acknowledged.
func TestV5DrainWaitsAndUnfinishedComeBack(t *testing.T) {
	e := newV5Env(t)
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	const n = 20
	var mu sync.Mutex
	acked := map[string]int{}
	first := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	leaks := goleak.IgnoreCurrent()
	func() {
		b := NewV5(WithNameServer([]string{e.mini.GRPCAddr()}), broker.WithLogger(testLogger()))
		if err := b.Connect(); err != nil {
			t.Fatal(err)
		}
		_, err := b.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
			slow := false
			once.Do(func() { slow = true })
			if slow {
				close(first)
				<-release
			}
			mu.Lock()
			acked[string(evt.Message().Body.([]byte))]++
			mu.Unlock()
			return nil
		}, nil, broker.WithQueueName(group), WithConcurrency(2))
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := b.Publish(context.Background(), topic, fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		<-first
		drained := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			drained <- b.Drain(ctx)
		}()
		select {
		case err := <-drained:
			t.Fatalf("Drain returned (%v) while a handler was running", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-drained; err != nil {
			t.Fatal(err)
		}
		if err := b.Disconnect(); err != nil {
			t.Fatal(err)
		}
	}()
	goleak.VerifyNone(t, leaks)
	b2 := e.connect()
	_, err := b2.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
		mu.Lock()
		acked[string(evt.Message().Body.([]byte))]++
		mu.Unlock()
		return nil
	}, nil, broker.WithQueueName(group))
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, fmt.Sprintf("all %d messages", n), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) == n
	})
}

func TestV5DrainDeadlineCancelsHandlers(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	started := make(chan struct{})
	cancelled := make(chan struct{})
	_, err := b.Subscribe(topic, func(ctx context.Context, _ broker.Event) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}, nil, broker.WithQueueName(group))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, "x"); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := b.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain = %v, want the deadline", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled")
	}
}

// TestV5Transactions: commit is delivered, rollback is not (ErrRolledBack), and an
// unknown outcome is resolved by the checker through the server's recovery command.
func TestV5Transactions(t *testing.T) {
	e := newV5Env(t, minirocketmq.WithTransactionCheckInterval(200*time.Millisecond), minirocketmq.WithTransactionTimeout(100*time.Millisecond))
	var checked atomic.Int32
	var checkedTopic atomic.Value
	b := e.connect(WithTransactionChecker(func(_ context.Context, m *broker.Message) broker.TransactionState {
		checked.Add(1)
		checkedTopic.Store(m.Headers[HeaderTopic])
		if m.Headers["tx"] == "unknown-then-commit" {
			return broker.TransactionCommit
		}
		return broker.TransactionRollback
	}))
	topic, group := e.topic("TRANSACTION"), e.group(false, 0)
	rec := collectV5(t, b, topic, group)
	publish := func(kind string, state broker.TransactionState) error {
		var ran bool
		err := b.Publish(context.Background(), topic, kind, WithProperties(map[string]string{"tx": kind}),
			WithTransaction(func(_ context.Context, m *broker.Message) broker.TransactionState {
				ran = m.Headers["tx"] == kind && string(m.Body.([]byte)) == kind
				return state
			}))
		if !ran {
			t.Errorf("%s: the local transaction did not run with the message", kind)
		}
		return err
	}
	if err := publish("commit", broker.TransactionCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := publish("rollback", broker.TransactionRollback); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("rollback: %v, want ErrRolledBack", err)
	}
	if err := publish("unknown-then-commit", broker.TransactionUnknown); err != nil {
		t.Fatalf("unknown: %v", err)
	}
	poll.Until(t, 20*time.Second, "the committed and the checked-back message", func() bool { return rec.len() == 2 })
	got := map[string]bool{}
	for _, ev := range rec.all() {
		got[string(ev.body.([]byte))] = true
	}
	if !got["commit"] || !got["unknown-then-commit"] {
		t.Errorf("delivered %v", got)
	}
	if checked.Load() == 0 || checkedTopic.Load() != topic {
		t.Errorf("checker asked %d times, topic %v", checked.Load(), checkedTopic.Load())
	}
	time.Sleep(500 * time.Millisecond) // more checks would come now if the check-back had not ended it
	if n := checked.Load(); n != 1 {
		t.Errorf("checker asked %d times; EndTransaction after the check should end the checks", n)
	}
	if got := rec.len(); got != 2 {
		t.Errorf("%d deliveries, want 2 (the rolled-back message must not come)", got)
	}
}

// TestV5FIFOOrderPerMessageGroup: a FIFO group gets each message group in publish
// order, one message at a time, even when a receive returns a run of a group's
// messages (the backlog is published before the subscription, as a real broker's
// orderly pop hands out up to the batch size of one queue); a failure retries the
// same message before its successors, and groups progress independently.
func TestV5FIFOOrderPerMessageGroup(t *testing.T) {
	e := newV5Env(t)
	b := e.connect()
	topic, group := e.topic("FIFO"), e.group(true, 0)
	const perGroup = 10
	groups := []string{"g1", "g2", "g3"}
	for i := range perGroup {
		for _, g := range groups {
			if err := b.Publish(context.Background(), topic, &order{ID: i, Note: g}, WithMessageGroup(g)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var (
		mu       sync.Mutex
		seen     = map[string][]int{}
		running  = map[string]int{}
		overlaps []string
		most     int // handlers running at once, all groups
		failed   bool
	)
	_, err := broker.Subscribe(b, topic, func(_ context.Context, _ string, h broker.Headers, o *order) error {
		mu.Lock()
		running[o.Note]++
		if running[o.Note] > 1 {
			overlaps = append(overlaps, fmt.Sprintf("%s/%d", o.Note, o.ID))
		}
		total := 0
		for _, n := range running {
			total += n
		}
		most = max(most, total)
		mu.Unlock()
		// slow, the earlier ones slower: a group's messages handled side by side
		// would overlap here and end out of order
		time.Sleep(time.Duration(perGroup-o.ID) * 3 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		running[o.Note]--
		if o.Note == "g1" && o.ID == 3 && !failed {
			failed = true
			return errors.New("fail once")
		}
		if h[HeaderMessageGroup] != o.Note {
			return fmt.Errorf("message group header %q, want %q", h[HeaderMessageGroup], o.Note)
		}
		seen[o.Note] = append(seen[o.Note], o.ID)
		return nil
	}, broker.WithQueueName(group), WithOrderly(), WithSuspendInterval(100*time.Millisecond), WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "every message of every group", func() bool {
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
		if !sort.IntsAreSorted(seen[g]) || len(seen[g]) != perGroup {
			t.Errorf("group %s handled in order %v", g, seen[g])
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("handlers of one message group ran side by side: %v", overlaps)
	}
	if !failed {
		t.Error("the failure never happened")
	}
	if most < 2 {
		t.Error("message groups never ran side by side")
	}
}

// TestV5FIFODrainGivesBackTheRest: Drain while a FIFO group's first message of a
// batch is running gives the group's later messages of the batch back at once (not
// started, attempt not counted), waits for the running one, and the next consumer
// gets the rest in order as first deliveries.
func TestV5FIFODrainGivesBackTheRest(t *testing.T) {
	e := newV5Env(t)
	topic, group := e.topic("FIFO"), e.group(true, 0)
	b := NewV5(WithNameServer([]string{e.mini.GRPCAddr()}), broker.WithLogger(testLogger()))
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		if err := b.Publish(context.Background(), topic, fmt.Sprint(i), WithMessageGroup("g1")); err != nil {
			t.Fatal(err)
		}
	}
	started := make(chan string, n)
	release := make(chan struct{})
	_, err := b.Subscribe(topic, func(_ context.Context, evt broker.Event) error {
		started <- string(evt.Message().Body.([]byte))
		<-release
		return nil
	}, nil, broker.WithQueueName(group), WithOrderly(), WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	if first := <-started; first != "0" {
		t.Fatalf("first message handled %s, want 0", first)
	}
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		drained <- b.Drain(ctx)
	}()
	// the four not started are given back while the first still runs
	poll.Until(t, 10*time.Second, "the rest of the batch given back", func() bool {
		return e.mini.PopStats(group, topic) == pop.Stats{InFlight: 1, Ready: n - 1}
	})
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while a handler was running", err)
	default:
	}
	close(release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if err := b.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if len(started) != 0 {
		t.Fatalf("%d more handlers started after Drain began", len(started))
	}
	rec := collectV5(t, e.connect(), topic, group, WithOrderly())
	poll.Until(t, 10*time.Second, "the rest", func() bool { return rec.len() == n-1 })
	for i, ev := range rec.all() {
		if body, want := string(ev.body.([]byte)), fmt.Sprint(i+1); body != want || ev.headers[HeaderReconsumeTimes] != "0" {
			t.Errorf("delivery %d: %s (reconsume times %s), want %s as a first delivery", i, body, ev.headers[HeaderReconsumeTimes], want)
		}
	}
}

func TestV5Namespace(t *testing.T) {
	e := newV5Env(t)
	b := e.connect(WithNamespace("tenant1"))
	topic := e.topic("NORMAL") // the plain name: this one must not be used
	nsTopic := "tenant1%" + topic
	if err := e.mini.CreateTopic(nsTopic, 2); err != nil {
		t.Fatal(err)
	}
	group := e.group(false, 0)
	rec := collectV5(t, b, topic, group)
	if err := b.Publish(context.Background(), topic, "x"); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the delivery", func() bool { return rec.len() == 1 })
	if ev := rec.all()[0]; ev.topic != topic || ev.headers[HeaderTopic] != topic {
		t.Errorf("handler saw topic %q / header %q, want %q", ev.topic, ev.headers[HeaderTopic], topic)
	}
	count := func(topic string, queues int) int {
		n := 0
		for q := range queues {
			msgs, err := e.mini.Messages(topic, q)
			if err != nil {
				t.Fatal(err)
			}
			n += len(msgs)
		}
		return n
	}
	if n := count(nsTopic, 2); n != 1 {
		t.Errorf("%d messages in %s, want 1", n, nsTopic)
	}
	if n := count(topic, 4); n != 0 {
		t.Errorf("%d messages in the plain %s", n, topic)
	}
}

// TestV5ReceivedDuringDrainIsGivenBack: a message that arrives after Drain began is
// not handled and goes back to the server without counting an attempt, so the next
// consumer of the group gets it as a first delivery.
func TestV5ReceivedDuringDrainIsGivenBack(t *testing.T) {
	e := newV5Env(t)
	topic, group := e.topic("NORMAL"), e.group(false, 0)
	b := NewV5(WithNameServer([]string{e.mini.GRPCAddr()}), broker.WithLogger(testLogger()))
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	sub, err := b.Subscribe(topic, func(context.Context, broker.Event) error {
		calls.Add(1)
		return nil
	}, nil, broker.WithQueueName(group), WithInvisibleDuration(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s := sub.(*v5Sub)
	s.stopReceivers() // the test receives by hand below
	if err := b.Publish(context.Background(), topic, "x"); err != nil {
		t.Fatal(err)
	}
	var msgs []*v2.Message
	poll.Until(t, 10*time.Second, "a received message", func() bool {
		msgs, err = s.receive(context.Background(), s.queues[0], 1)
		return err == nil && len(msgs) == 1
	})
	if err := b.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.g.credits <- struct{}{} // what the receive loop takes before it hands a message over
	s.waiting.Add(1)
	s.handle(msgs[0])
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler ran %d times after Drain", n)
	}
	if err := b.Disconnect(); err != nil {
		t.Fatal(err)
	}
	b2 := e.connect()
	rec := collectV5(t, b2, topic, group)
	poll.Until(t, 10*time.Second, "the given-back message", func() bool { return rec.len() == 1 })
	if rc := rec.all()[0].headers[HeaderReconsumeTimes]; rc != "0" {
		t.Errorf("reconsume times = %s: the give-back counted an attempt", rc)
	}
}
