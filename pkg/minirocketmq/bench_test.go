package minirocketmq_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/layout/pkg/minirocketmq/rmqtest"
)

// BenchmarkProduceConsume measures the official Go client through the
// broker: b.N messages of 1 KiB sent with SendSync from 16 goroutines (the
// produce figures), then drained by one push consumer from the first offset
// (the consume figures). With ROCKETMQ_NAMESRV set it measures that cluster
// instead, so the two can be compared with the same client and parameters:
//
//	go test -run '^$' -bench ProduceConsume -benchtime 20000x ./pkg/minirocketmq
//	ROCKETMQ_NAMESRV=127.0.0.1:9876 go test -run '^$' -bench ProduceConsume -benchtime 20000x ./pkg/minirocketmq
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
