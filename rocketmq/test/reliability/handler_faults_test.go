package reliability

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/middleware/recovery"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
	"github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// faultCase is one handler fault: n messages keyed k-000, k-001, ...; handle runs for
// every delivery of message i (attempt counts from 1); poison(i) sends a body the
// handler's type cannot decode instead; dlq(i) says the message must end in the
// dead-letter queue (else it must be confirmed).
type faultCase struct {
	name   string
	n      int
	handle func(ctx context.Context, i, attempt int) error
	poison func(i int) []byte
	dlq    func(i int) bool
	opts   []broker.SubscribeOption
}

// maxReconsume is the redeliveries before the DLQ in these tests (RocketMQ: 16).
const maxReconsume = 2

var errTransient = errors.New("injected handler error")

// TestHandlerFaults sends n keyed messages to a Kratos RocketMQ transport server (with
// Kratos' recovery middleware, as the app has) whose handler fails in one way, and
// checks that every message is confirmed or in %DLQ%<group>: none is lost, and each
// ends where the fault says. Every fault logs its figures.
func TestHandlerFaults(t *testing.T) {
	n := Pick(40, 300)
	every := func(k int) func(int) bool { return func(i int) bool { return i%k == 0 } }
	never := func(int) bool { return false }
	for _, tc := range []faultCase{
		{
			// Every message fails twice, then succeeds; every 10th fails for good.
			name: "error",
			n:    n,
			handle: func(_ context.Context, i, attempt int) error {
				if attempt <= maxReconsume || i%10 == 0 {
					return fmt.Errorf("message %d attempt %d: %w", i, attempt, errTransient)
				}
				return nil
			},
			dlq: every(10),
		},
		{
			// The same with panics: the recovery middleware and the driver turn them into
			// errors, the message comes again.
			name: "panic",
			n:    n,
			handle: func(_ context.Context, i, attempt int) error {
				if attempt == 1 || i%10 == 0 {
					panic(fmt.Sprintf("injected panic: message %d attempt %d", i, attempt))
				}
				return nil
			},
			dlq: every(10),
		},
		{
			// Every 5th body cannot be decoded (not JSON, or a field of the wrong type):
			// straight to the DLQ, the handler never sees it.
			name:   "poison",
			n:      n,
			handle: func(context.Context, int, int) error { return nil },
			poison: func(i int) []byte {
				switch {
				case i%10 == 0:
					return []byte("\x00\xffnot json")
				case i%5 == 0:
					return []byte(`{"key":"k","n":"not a number"}`)
				}
				return nil
			},
			dlq: every(5),
		},
		{
			// The handler declares every 7th message unprocessable: DLQ at once.
			name: "dead-letter",
			n:    n,
			handle: func(_ context.Context, i, _ int) error {
				if i%7 == 0 {
					return fmt.Errorf("message %d refers to nothing: %w", i, broker.ErrDeadLetter)
				}
				return nil
			},
			dlq: every(7),
		},
		{
			// Errors and panics mixed, each message fails its first attempt.
			name: "mixed",
			n:    n,
			handle: func(_ context.Context, i, attempt int) error {
				if attempt > 1 {
					return nil
				}
				if i%2 == 0 {
					panic("injected panic")
				}
				return errTransient
			},
			dlq: never,
		},
	} {
		t.Run(tc.name, func(t *testing.T) { runFault(t, tc) })
	}
}

// runFault runs one faultCase and asserts where every message ended.
func runFault(t *testing.T, tc faultCase) *Tally {
	t.Helper()
	ns := rmqtest.NameServer(t, ShortDelays())
	topic, group := rmqtest.Name(t, "faults"), rmqtest.Name(t, "handler")
	EnsureTopics(t, ns, topic)
	c := NewTally()

	var mu sync.Mutex
	attempts := map[string]int{}
	index := map[string]int{}
	for i := 0; i < tc.n; i++ {
		index[key(i)] = i
	}
	srv := rocketmq.NewServer(rocketmq.DriverTypeV2,
		rocketmq.WithNameServer([]string{ns}),
		rocketmq.WithLogger(Logger()),
		rocketmq.WithEnableKeepAlive(false),
		rocketmq.WithInstanceName(rmqtest.Name(t, "consumer")),
		rocketmq.WithMiddleware(recovery.Recovery()))
	opts := append([]broker.SubscribeOption{rmq.WithConsumeFromFirst(), rmq.WithMaxReconsumeTimes(maxReconsume),
		rmq.WithRetryDelayLevel(1)}, tc.opts...)
	err := rocketmq.RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, j *Job) error {
			k := j.Key
			mu.Lock()
			attempts[k]++
			attempt := attempts[k]
			i, ok := index[k]
			mu.Unlock()
			c.AddDelivery()
			if !ok {
				return fmt.Errorf("unknown key %q (keys header %q)", k, h[rmq.HeaderKeys])
			}
			if err := tc.handle(ctx, i, attempt); err != nil {
				return err
			}
			c.AddConfirmed(k)
			return nil
		}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ReadDLQ(t, ns, group, c)

	p := NewProducer(t, ns)
	for i := 0; i < tc.n; i++ {
		var body any = &Job{Key: key(i), N: i}
		if tc.poison != nil {
			if b := tc.poison(i); b != nil {
				body = b
			}
		}
		if err := p.Publish(context.Background(), topic, body, rmq.WithKeys([]string{key(i)})); err != nil {
			t.Fatalf("publish %s: %v", key(i), err)
		}
		c.AddSent(key(i))
	}
	c.WaitAccounted(t, 2*time.Minute)
	// Wait for the expected dead letters too: a message can be confirmed and then, by a
	// bug, also dead-lettered; give such a copy the time to arrive.
	poll.Until(t, time.Minute, "every expected dead letter", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i := 0; i < tc.n; i++ {
			if tc.dlq(i) && c.dlq[key(i)] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%s: %s", tc.name, c.Figures())

	c.mu.Lock()
	defer c.mu.Unlock()
	var wrong []string
	for i := 0; i < tc.n; i++ {
		k := key(i)
		switch {
		case tc.dlq(i) && c.confirmed[k] > 0:
			wrong = append(wrong, k+" confirmed, want DLQ")
		case !tc.dlq(i) && c.dlq[k] > 0:
			wrong = append(wrong, k+" in the DLQ, want confirmed")
		case !tc.dlq(i) && c.confirmed[k] == 0:
			wrong = append(wrong, k+" not confirmed")
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d messages ended in the wrong place: %s", len(wrong), strings.Join(wrong, "; "))
	}
	return c
}

func key(i int) string { return fmt.Sprintf("k-%04d", i) }
