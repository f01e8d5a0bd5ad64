package minirocketmq_test

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// BenchmarkProduceConsume measures the official Go client through the
// broker: b.N messages of 1 KiB sent with SendSync from 16 goroutines (the
// produce figures), then drained by one push consumer from the first offset
// (the consume figures). With ROCKETMQ_NAMESRV set it measures that cluster
// instead, so the two can be compared with the same client and parameters:
//
//	go test -run '^$' -bench ProduceConsume -benchtime 20000x ./minirocketmq
//	ROCKETMQ_NAMESRV=127.0.0.1:9876 go test -run '^$' -bench ProduceConsume -benchtime 20000x ./minirocketmq
func BenchmarkProduceConsume(b *testing.B) {
	const (
		senders = 16
		size    = 1024
	)
	ns := rmqtest.NameServer(b)
	topic := rmqtest.Name(b, "Bench")
	p := newProducer(b, ns)
	body := make([]byte, size)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	// Creates the topic (4 queues, auto-created on both brokers).
	if _, err := p.SendSync(context.Background(), primitive.NewMessage(topic, body)); err != nil {
		b.Fatalf("first send: %v", err)
	}
	total := int64(b.N) + 1

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var sendErr atomic.Value
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := p.SendSync(context.Background(), primitive.NewMessage(topic, body)); err != nil {
					sendErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	produced := time.Since(start)
	if err, _ := sendErr.Load().(error); err != nil {
		b.Fatalf("send: %v", err)
	}

	var got atomic.Int64
	done := make(chan struct{})
	c := newPushConsumer(b, ns, rmqtest.Name(b, "BenchCG"))
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			if len(m.Body) != size {
				b.Errorf("body of %d bytes", len(m.Body))
			}
		}
		if got.Add(int64(len(msgs))) == total {
			close(done)
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	startConsumer(b, c)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("consumed %d of %d", got.Load(), total)
	}
	consumed := time.Since(start)
	b.StopTimer()

	mb := float64(size) / (1 << 20)
	b.ReportMetric(float64(b.N)/produced.Seconds(), "produce_msgs/s")
	b.ReportMetric(float64(b.N)*mb/produced.Seconds(), "produce_MB/s")
	b.ReportMetric(float64(total)/consumed.Seconds(), "consume_msgs/s")
	b.ReportMetric(float64(total)*mb/consumed.Seconds(), "consume_MB/s")
}

// BenchmarkDelayAccuracy measures how late delayed messages arrive: b.N
// messages with delay level 1 (1 s, the real default) sent 10 ms apart to
// an idle broker, consumed by one push consumer; lateness is the arrival
// time minus the send time minus 1 s, as the consumer's callback sees it
// (so it includes the pull and the client's dispatch). With
// ROCKETMQ_NAMESRV set it measures that cluster:
//
//	go test -run '^$' -bench DelayAccuracy -benchtime 100x ./minirocketmq
//	ROCKETMQ_NAMESRV=127.0.0.1:9876 go test -run '^$' -bench DelayAccuracy -benchtime 100x ./minirocketmq
func BenchmarkDelayAccuracy(b *testing.B) {
	const level = time.Second
	ns := rmqtest.NameServer(b)
	topic := rmqtest.Name(b, "Delay")
	p := newProducer(b, ns)
	if _, err := p.SendSync(context.Background(), newMsg(topic, "create", "create")); err != nil {
		b.Fatal(err)
	}
	broker := brokerNameOf(b, ns, topic)
	var (
		mu      sync.Mutex
		sentAt  = make(map[string]time.Time)
		late    []time.Duration
		arrived = make(chan struct{}, b.N)
		warm    = make(chan struct{}, 64)
	)
	c := newPushConsumer(b, ns, rmqtest.Name(b, "DelayCG"))
	err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if at, ok := sentAt[m.GetProperty("idx")]; ok {
				late = append(late, now.Sub(at)-level)
				arrived <- struct{}{}
			}
			if m.GetProperty("warmup") != "" {
				warm <- struct{}{}
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	startConsumer(b, c)
	// Wait until the consumer pulls every queue: one plain message each.
	queues := routeQueues(b, ns, topic)
	sel := newProducer(b, ns, producer.WithQueueSelector(producer.NewManualQueueSelector()))
	for q := range queues {
		m := newMsg(topic, "warm-up", "")
		m.WithProperty("warmup", "1")
		m.Queue = &primitive.MessageQueue{Topic: topic, BrokerName: broker, QueueId: q}
		if _, err := sel.SendSync(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	for range queues {
		select {
		case <-warm:
		case <-time.After(time.Minute):
			b.Fatal("the consumer does not pull every queue")
		}
	}

	b.ResetTimer()
	for i := range b.N {
		idx := strconv.Itoa(i)
		m := newMsg(topic, idx, idx)
		m.WithDelayTimeLevel(1)
		mu.Lock()
		sentAt[idx] = time.Now()
		mu.Unlock()
		if _, err := p.SendSync(context.Background(), m); err != nil {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range b.N {
		select {
		case <-arrived:
		case <-time.After(2 * time.Minute):
			b.Fatalf("%d of %d delayed messages arrived", i, b.N)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(late[0]), "min_late_ms")
	b.ReportMetric(ms(late[len(late)/2]), "p50_late_ms")
	b.ReportMetric(ms(late[len(late)*99/100]), "p99_late_ms")
	b.ReportMetric(ms(late[len(late)-1]), "max_late_ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkProduceStore compares the stores under the official client:
// 1 KiB messages sent with SendSync from 16 goroutines to three embedded
// brokers, one keeping messages in memory, one in a data directory with
// ASYNC_FLUSH, one with SYNC_FLUSH (each send acknowledged after the fsync
// it shares with the concurrent ones). b.N messages go to each, in three
// interleaved rounds so that load from elsewhere on the machine hits all
// three alike; it reports each rate and async/memory and sync/memory.
//
//	go test -run '^$' -bench ProduceStore -benchtime 30000x ./minirocketmq
func BenchmarkProduceStore(b *testing.B) {
	if rmqtest.External() != "" {
		b.Skip("compares the embedded broker's stores")
	}
	stores := []struct {
		name string
		opts []minirocketmq.Option
	}{
		{"memory", nil},
		{"async", []minirocketmq.Option{minirocketmq.WithDataDir(b.TempDir())}},
		{"sync", []minirocketmq.Option{minirocketmq.WithDataDir(b.TempDir()), minirocketmq.WithFlushDiskType(minirocketmq.SyncFlush)}},
	}
	type target struct {
		p       rocketmq.Producer
		topic   string
		elapsed time.Duration
	}
	targets := make([]*target, len(stores))
	for i, s := range stores {
		br := minirocketmq.RunT(b, s.opts...)
		tg := &target{p: newProducer(b, br.Addr()), topic: rmqtest.Name(b, "Bench")}
		// Creates the topic (auto-created, 4 queues).
		if _, err := tg.p.SendSync(context.Background(), primitive.NewMessage(tg.topic, []byte("x"))); err != nil {
			b.Fatalf("first send: %v", err)
		}
		targets[i] = tg
	}
	const rounds = 3
	b.ResetTimer()
	for r := range rounds {
		n := b.N / rounds
		if r == rounds-1 {
			n = b.N - n*(rounds-1)
		}
		for _, tg := range targets {
			tg.elapsed += sendMany(b, tg.p, tg.topic, n)
		}
	}
	b.StopTimer()
	rate := make([]float64, len(targets))
	for i, tg := range targets {
		rate[i] = float64(b.N) / tg.elapsed.Seconds()
		b.ReportMetric(rate[i], stores[i].name+"_msgs/s")
	}
	b.ReportMetric(rate[1]/rate[0], "async/memory")
	b.ReportMetric(rate[2]/rate[0], "sync/memory")
	b.ReportMetric(0, "ns/op")
}

// sendMany sends n 1 KiB messages with SendSync from 16 goroutines and
// returns how long it took.
func sendMany(b *testing.B, p rocketmq.Producer, topic string, n int) time.Duration {
	const senders, size = 16, 1024
	body := make([]byte, size)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var sendErr atomic.Value
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if _, err := p.SendSync(context.Background(), primitive.NewMessage(topic, body)); err != nil {
					sendErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := sendErr.Load().(error); err != nil {
		b.Fatalf("send: %v", err)
	}
	return time.Since(start)
}
