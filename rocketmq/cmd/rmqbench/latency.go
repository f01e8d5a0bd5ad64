package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// Scenario 3: end-to-end latency, from the start of the send call to the start of the
// handler, at a fixed offered rate, for both paths at the same time: raw producer →
// raw push consumer, and broker Publish → transport server. Each event carries its
// send time; sender and handler share this process's clock.

const latencySenders = 8 // goroutines per path that take the paced sends

func runLatency(ctx context.Context, e *env) ([]*table, error) {
	rawTopic, oursTopic := name("lat_raw"), name("lat_ours")
	if err := e.ensureTopics(ctx, rawTopic, oursTopic); err != nil {
		return nil, err
	}
	var rec [2]recorder
	raw, rawStarted, err := startRawConsumer(ctx, e, rawTopic, consumer.ConsumeFromLastOffset, rec[0].record)
	if err != nil {
		return nil, err
	}
	defer func() { shutdownConsumer(raw, rawStarted) }()
	ours, err := startOurServer(ctx, e, false, oursTopic, rec[1].record)
	if err != nil {
		return nil, err
	}
	defer func() { _ = ours.Stop(context.Background()) }()
	p, err := e.newRawProducer()
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Shutdown() }()

	base := newEvent(0)
	sends := [2]func(*event) error{
		func(ev *event) error {
			body, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			_, err = p.SendSync(context.Background(), primitive.NewMessage(rawTopic, body))
			return err
		},
		func(ev *event) error { return ours.Publish(context.Background(), oursTopic, ev) },
	}
	for _, send := range sends { // see prime
		ev := *base
		ev.ID = -1
		if err := send(&ev); err != nil {
			return nil, fmt.Errorf("first send: %w", err)
		}
	}
	var sent [2]int64
	turn := func(i int, d time.Duration, measured bool) (err error) {
		pprof.Do(ctx, pprof.Labels("side", sideNames[i]), func(ctx context.Context) {
			var n int64
			n, err = paced(ctx, e.cfg.latencyRate, d, base, measured, sends[i])
			if measured {
				sent[i] += n
			}
		})
		return err
	}
	for i := range 2 {
		if err := turn(i, e.cfg.warmup, false); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", sideNames[i], err)
		}
	}
	for k := range e.cfg.rounds {
		for _, i := range turnOrder(k) {
			if err := turn(i, e.cfg.turn, true); err != nil {
				return nil, fmt.Errorf("%s: %w", sideNames[i], err)
			}
		}
	}
	var lat [2][]time.Duration
	for i := range 2 {
		if lat[i], err = rec[i].wait(ctx, sent[i], time.Minute); err != nil {
			return nil, fmt.Errorf("%s: %w", sideNames[i], err)
		}
	}

	ps := []float64{0.50, 0.99, 0.999}
	rp, op := percentiles(lat[0], ps...), percentiles(lat[1], ps...)
	t := &table{
		title:  fmt.Sprintf("3. Latency send → handler at %s msg/s per path", groupDigits(int64(e.cfg.latencyRate))),
		header: []string{"percentile", "raw", "ours", "ours ÷ raw", "goal"},
		notes: []string{fmt.Sprintf("%d rounds of a %v turn per path, %s and %s samples; raw: SendSync → push consumer "+
			"callback, ours: broker Publish → transport handler (same 1 KiB JSON event); %d goroutines per path "+
			"take the paced sends.", e.cfg.rounds, e.cfg.turn, groupDigits(int64(len(lat[0]))), groupDigits(int64(len(lat[1]))),
			latencySenders)},
	}
	for k, name := range []string{"p50", "p99", "p99.9"} {
		ratio := float64(op[k]) / float64(max(rp[k], 1))
		if name == "p99" {
			rc, g := t.ratio("latency p99", ratio, goalLatency)
			t.row(name, ms(rp[k]), ms(op[k]), rc, g)
			continue
		}
		t.row(name, ms(rp[k]), ms(op[k]), fmt.Sprintf("%.2f", ratio), "–")
	}
	return []*table{t}, nil
}

// paced offers rate msg/s for d, handing each send to one of latencySenders
// goroutines, and returns how many events were sent. Unmeasured events get ID -1 and
// are not recorded.
func paced(ctx context.Context, rate int, d time.Duration, base *event, measured bool, send func(*event) error) (int64, error) {
	interval := time.Second / time.Duration(rate)
	total := int(d / interval)
	jobs := make(chan int64, 1024)
	var sent atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range latencySenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				ev := *base
				ev.ID, ev.SentAt = id, time.Now().UnixNano()
				if err := send(&ev); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					continue
				}
				sent.Add(1)
			}
		}()
	}
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if w := time.Until(start.Add(time.Duration(i) * interval)); w > 0 {
			time.Sleep(w)
		}
		id := int64(i)
		if !measured {
			id = -1
		}
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	return sent.Load(), errors.Join(firstErr, ctx.Err())
}

// recorder collects the latencies of measured events as handlers see them.
type recorder struct {
	mu  sync.Mutex
	lat []time.Duration
}

func (r *recorder) record(_ context.Context, ev *event) error {
	if ev.ID < 0 || ev.SentAt == 0 {
		return nil
	}
	d := time.Since(time.Unix(0, ev.SentAt))
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
	return nil
}

// wait returns the latencies once n have been recorded.
func (r *recorder) wait(ctx context.Context, n int64, timeout time.Duration) ([]time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		got := int64(len(r.lat))
		r.mu.Unlock()
		if got >= n {
			r.mu.Lock()
			defer r.mu.Unlock()
			return append([]time.Duration(nil), r.lat...), nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d events arrived within %v", got, n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
