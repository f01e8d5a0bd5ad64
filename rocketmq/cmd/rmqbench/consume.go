package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	transport "github.com/kratos-rocketmq/rocketmq/transport/rocketmq"
)

// Scenario 2: a raw push consumer against the transport server draining pre-produced
// 1 KiB JSON events, in alternating turns (see measure.go): each turn starts a consumer
// of a new group on a topic of its own holding the turn's messages and stops it once
// all have been handled. Same job per message: the raw callback json.Unmarshals the
// body into a new event and calls the handler; ours is RegisterSubscriber[event] with
// the JSON codec and recovery middleware. Both use the client's default consumer
// settings. A turn is timed from its first delivery to its last, so consumer start-up
// (route lookup, rebalance) is left out.

func runConsume(ctx context.Context, e *env) ([]*table, error) {
	n := e.cfg.consumeRounds
	per := max(e.cfg.consumeMessages/n, 2)
	warm := max(per/4, 2)
	topics := make([][2]string, n+1) // the last pair is for the warm-up drains
	var all []string
	for k := range topics {
		topics[k] = [2]string{name("con_raw"), name("con_ours")}
		all = append(all, topics[k][:]...)
	}
	if err := e.ensureTopics(ctx, all...); err != nil {
		return nil, err
	}
	body, err := json.Marshal(newEvent(0))
	if err != nil {
		return nil, err
	}
	p, err := e.newRawProducer()
	if err != nil {
		return nil, err
	}
	for k, topic := range all {
		count := per
		if k >= 2*n {
			count = warm
		}
		if err := fill(p, topic, count, body); err != nil {
			_ = p.Shutdown()
			return nil, fmt.Errorf("pre-produce: %w", err)
		}
	}
	_ = p.Shutdown()

	for i := range 2 { // the first consumer of a process pays for one-time set-up
		if _, _, _, err := drainTurn(ctx, e, i, topics[n][i], warm); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", sideNames[i], err)
		}
	}
	r := &rounds{}
	for k := range n {
		for _, i := range turnOrder(k) {
			msgs, wall, cpu, err := drainTurn(ctx, e, i, topics[k][i], per)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sideNames[i], err)
			}
			r.add(i, msgs, wall, cpu)
		}
	}
	t := &table{
		title:  "2. Consume: raw push consumer vs transport server (RegisterSubscriber, JSON codec, recovery middleware)",
		header: ratioHeader,
		notes: []string{fmt.Sprintf("%d rounds of one drain of %s messages per side; each drain timed from its "+
			"first delivery to its last.", n, groupDigits(int64(per))), ratioNote},
	}
	t.ratioRow(fmt.Sprintf("drain %s × 1 KiB", groupDigits(int64(n*per))), "consume", r, &goalThroughput)
	return []*table{t}, nil
}

// drainTurn consumes per messages from topic with side i (0 raw, 1 ours, 2 ours on
// the v5 driver) and returns the messages handled after the first one, the time from
// the first to the last, and the process CPU time meanwhile.
func drainTurn(ctx context.Context, e *env, i int, topic string, per int) (int64, time.Duration, time.Duration, error) {
	var count atomic.Int64
	first := make(chan struct{}) // closed once the first delivery set t0 and c0
	var t0, t1 time.Time
	var c0, c1 time.Duration
	done := make(chan struct{})
	handle := func(context.Context, *event) error {
		k := count.Add(1)
		if k == 1 {
			t0, c0 = time.Now(), cpuTime()
			close(first)
		}
		if k == int64(per) {
			t1, c1 = time.Now(), cpuTime()
			close(done)
		}
		return nil
	}
	var stop func()
	switch i {
	case 0:
		c, started, err := startRawConsumer(ctx, e, topic, consumer.ConsumeFromFirstOffset, handle)
		if err != nil {
			return 0, 0, 0, err
		}
		stop = func() { shutdownConsumer(c, started) }
	default:
		srv, err := startOurServer(ctx, e, i == 2, topic, handle, rmq.WithConsumeFromFirst())
		if err != nil {
			return 0, 0, 0, err
		}
		stop = func() { _ = srv.Stop(context.Background()) }
	}
	defer stop()
	select {
	case <-done:
		<-first
		return int64(per - 1), t1.Sub(t0), c1 - c0, nil
	case <-ctx.Done():
		return 0, 0, 0, ctx.Err()
	case <-time.After(time.Minute + time.Duration(per)*time.Millisecond):
		return 0, 0, 0, fmt.Errorf("%d of %d messages consumed", count.Load(), per)
	}
}

// startRawConsumer starts a raw push consumer of a new group on topic whose callback
// decodes each body as JSON into a new event and calls handle; it runs with the
// pprof label side=raw.
func startRawConsumer(ctx context.Context, e *env, topic string, from consumer.ConsumeFromWhere, handle func(context.Context, *event) error) (rocketmq.PushConsumer, time.Time, error) {
	c, err := newRawConsumer(e.ns, from)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("raw consumer: %w", err)
	}
	err = c.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"},
		func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			for _, m := range msgs {
				ev := new(event)
				if err := json.Unmarshal(m.Body, ev); err != nil {
					return consumer.ConsumeRetryLater, err
				}
				if err := handle(ctx, ev); err != nil {
					return consumer.ConsumeRetryLater, err
				}
			}
			return consumer.ConsumeSuccess, nil
		})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("raw consumer: %w", err)
	}
	pprof.Do(ctx, pprof.Labels("side", "raw"), func(context.Context) { err = c.Start() })
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("start raw consumer: %w", err)
	}
	return c, time.Now(), nil
}

// startOurServer starts a transport server (on the v5 driver with v5) with one typed
// subscription of a new group on topic; it runs with the pprof label side=ours (v5).
func startOurServer(ctx context.Context, e *env, v5 bool, topic string, handle func(context.Context, *event) error, opts ...broker.SubscribeOption) (*transport.Server, error) {
	srv, label := e.newServer(), "ours"
	if v5 {
		srv, label = e.newV5Server(), "v5"
	}
	err := transport.RegisterSubscriber(srv, context.Background(), topic, name("CG"),
		func(ctx context.Context, _ string, _ broker.Headers, ev *event) error { return handle(ctx, ev) }, opts...)
	if err != nil {
		return nil, err
	}
	pprof.Do(ctx, pprof.Labels("side", label), func(ctx context.Context) { err = srv.Start(ctx) })
	if err != nil {
		return nil, fmt.Errorf("start transport server: %w", err)
	}
	return srv, nil
}

// fill sends n messages with body to topic in batches of 32 from 4 goroutines. The
// first batch goes alone: concurrent first sends to a topic race in the client, which
// can store the topic's queues before their broker's address and then fail a send with
// "route info not found".
func fill(p rocketmq.Producer, topic string, n int, body []byte) error {
	const senders = 4
	if n <= 0 {
		return nil
	}
	first := min(batchSize, n)
	msgs := make([]*primitive.Message, first)
	for i := range msgs {
		msgs[i] = primitive.NewMessage(topic, body)
	}
	if _, err := p.SendSync(context.Background(), msgs...); err != nil {
		return err
	}
	batches := make(chan int, senders)
	go func() {
		for sent := first; sent < n; sent += batchSize {
			batches <- min(batchSize, n-sent)
		}
		close(batches)
	}()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range batches {
				msgs := make([]*primitive.Message, k)
				for i := range msgs {
					msgs[i] = primitive.NewMessage(topic, body)
				}
				if _, err := p.SendSync(context.Background(), msgs...); err != nil {
					errs <- err
					for range batches { // let the feeder finish
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
