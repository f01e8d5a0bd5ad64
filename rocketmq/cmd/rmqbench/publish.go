package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
)

// Scenario 1: the raw producer against broker's Publish. Both sides do the same
// job per message: JSON-encode the same 1 KiB event (json.Marshal on the raw side, the
// broker's JSON codec on ours) and send it; each side has its own topic of 8 queues.

const (
	asyncInFlight = 64 // sends in flight per side in the async case
	batchSize     = 32
)

// publishMode is how one case sends.
type publishMode int

const (
	modeSync publishMode = iota
	modeAsync
	modeBatch
)

type publishCase struct {
	name       string
	mode       publishMode
	goroutines int
	control    bool // "ours" is a second raw producer: the method's noise floor
}

var publishCases = []publishCase{
	{"SendSync ×1", modeSync, 1, false},
	{"SendSync ×4", modeSync, 4, false},
	{"SendSync ×16", modeSync, 16, false},
	{fmt.Sprintf("SendAsync (%d in flight)", asyncInFlight), modeAsync, 1, false},
	{fmt.Sprintf("batch of %d ×4", batchSize), modeBatch, 4, false},
	{"control: raw ÷ raw, SendSync ×4", modeSync, 4, true},
}

func runPublish(ctx context.Context, e *env) ([]*table, error) {
	rawTopic, oursTopic := name("pub_raw"), name("pub_ours")
	if err := e.ensureTopics(ctx, rawTopic, oursTopic); err != nil {
		return nil, err
	}
	p, err := e.newRawProducer()
	if err != nil {
		return nil, fmt.Errorf("raw producer: %w", err)
	}
	defer func() { _ = p.Shutdown() }()
	p2, err := e.newRawProducer() // the control case's "ours"
	if err != nil {
		return nil, fmt.Errorf("raw producer: %w", err)
	}
	defer func() { _ = p2.Shutdown() }()
	ours := e.newDriver()
	if err := ours.Connect(); err != nil {
		return nil, fmt.Errorf("our broker: %w", err)
	}
	defer func() { _ = ours.Disconnect() }()

	t := &table{
		title:  "1. Publish: raw producer vs broker Publish, 1 KiB JSON event",
		header: ratioHeader,
		notes: []string{fmt.Sprintf("Each case: %d rounds of a %v turn per side; ×N is the number of sending "+
			"goroutines per side; a batch counts as %d messages. The control row measures a second raw "+
			"producer as \"ours\": how far apart two identical sides come out in this run.", e.cfg.rounds, e.cfg.turn, batchSize),
			ratioNote},
	}
	ev := newEvent(0)
	if err := prime(rawSender(p, rawTopic, ev, modeSync), ourSender(ours, oursTopic, ev, modeSync),
		rawSender(p2, oursTopic, ev, modeSync)); err != nil {
		return nil, err
	}
	for _, c := range publishCases {
		raw := publishSide(c, rawSender(p, rawTopic, ev, c.mode))
		our := publishSide(c, ourSender(ours, oursTopic, ev, c.mode))
		if c.control {
			our = publishSide(c, rawSender(p2, oursTopic, ev, c.mode))
		}
		r, err := alternate(ctx, e.cfg.rounds, e.cfg.warmup, e.cfg.turn, raw, our)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		g := &goalThroughput
		if c.control {
			g = nil
		}
		t.ratioRow(c.name, "publish "+c.name, r, g)
		if err := e.emptyTopics(ctx, rawTopic, oursTopic); err != nil { // bounds the broker's memory
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return []*table{t}, nil
}

// sender sends one message or batch; async senders call done when the broker answered.
type sender func(ctx context.Context, done func(error)) (n int, err error)

func rawSender(p rocketmq.Producer, topic string, ev *event, mode publishMode) sender {
	message := func() (*primitive.Message, error) {
		body, err := json.Marshal(ev)
		return primitive.NewMessage(topic, body), err
	}
	switch mode {
	case modeAsync:
		return func(ctx context.Context, done func(error)) (int, error) {
			m, err := message()
			if err != nil {
				return 0, err
			}
			return 1, p.SendAsync(ctx, func(_ context.Context, _ *primitive.SendResult, err error) { done(err) }, m)
		}
	case modeBatch:
		return func(ctx context.Context, _ func(error)) (int, error) {
			msgs := make([]*primitive.Message, batchSize)
			for i := range msgs {
				m, err := message()
				if err != nil {
					return 0, err
				}
				msgs[i] = m
			}
			_, err := p.SendSync(ctx, msgs...)
			return batchSize, err
		}
	}
	return func(ctx context.Context, _ func(error)) (int, error) {
		m, err := message()
		if err != nil {
			return 0, err
		}
		_, err = p.SendSync(ctx, m)
		return 1, err
	}
}

func ourSender(b broker.Broker, topic string, ev *event, mode publishMode) sender {
	switch mode {
	case modeAsync:
		return func(ctx context.Context, done func(error)) (int, error) {
			return 1, b.Publish(ctx, topic, ev, rmq.WithAsync(func(_ context.Context, _ *broker.PublishResult, err error) { done(err) }))
		}
	case modeBatch:
		batch := make(broker.Batch, batchSize)
		for i := range batch {
			batch[i] = ev
		}
		return func(ctx context.Context, _ func(error)) (int, error) {
			return batchSize, b.Publish(ctx, topic, batch)
		}
	}
	return func(ctx context.Context, _ func(error)) (int, error) {
		return 1, b.Publish(ctx, topic, ev)
	}
}

// prime sends one message with each sender, one after the other. The client looks up a
// topic's route on its first send, and concurrent first sends race in it: it publishes
// the queues before the broker address, and a send in between fails with "topic=...
// route info not found" (internal/route.go, UpdateTopicRouteInfoWithDefault).
func prime(senders ...sender) error {
	for _, send := range senders {
		if _, err := send(context.Background(), nil); err != nil {
			return fmt.Errorf("first send: %w", err)
		}
	}
	return nil
}

// publishSide runs send as the case says until ctx is done.
func publishSide(c publishCase, send sender) side {
	if c.mode == modeAsync {
		return asyncSide(send)
	}
	return func(ctx context.Context, done func(int)) error {
		var wg sync.WaitGroup
		errs := make(chan error, c.goroutines)
		for range c.goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					n, err := send(context.Background(), nil)
					if err != nil {
						errs <- err
						return
					}
					done(n)
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
}

// asyncSide keeps asyncInFlight sends in flight from one goroutine.
func asyncSide(send sender) side {
	return func(ctx context.Context, done func(int)) error {
		slots := make(chan struct{}, asyncInFlight)
		var mu sync.Mutex
		var firstErr error
		fail := func(err error) {
			mu.Lock()
			firstErr = cmp.Or(firstErr, err)
			mu.Unlock()
		}
		failed := func() bool {
			mu.Lock()
			defer mu.Unlock()
			return firstErr != nil
		}
		for ctx.Err() == nil && !failed() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				continue
			}
			_, err := send(context.Background(), func(err error) {
				if err != nil {
					fail(err)
				} else {
					done(1)
				}
				<-slots
			})
			if err != nil {
				<-slots
				fail(err)
			}
		}
		for range asyncInFlight { // wait for the sends in flight
			slots <- struct{}{}
		}
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
}
