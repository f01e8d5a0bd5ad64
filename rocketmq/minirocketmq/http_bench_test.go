package minirocketmq_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// BenchmarkHTTPProduceConsume: 16 goroutines publish b.N messages of 1 KiB over the
// HTTP API (the test client: one request per message, as the SDK sends), then one
// consumer takes them in batches of 16 and acknowledges each batch. Reported: produce
// and consume msg/s, next to BenchmarkGRPCProduceConsume and BenchmarkProduceConsume.
//
//	go test -run '^$' -bench '^Benchmark(HTTP|GRPC)?ProduceConsume$' -benchtime 20000x ./minirocketmq
func BenchmarkHTTPProduceConsume(b *testing.B) {
	br := startHTTP(b)
	topic, group := rmqtest.Name(b, "T"), rmqtest.Name(b, "GID")
	if err := br.CreateTopic(topic, 4); err != nil {
		b.Fatal(err)
	}
	c := newHTTPClient(b, br)
	body := strings.Repeat("x", 1024)
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if r := c.publishRaw(topic, pubMsg{Body: body}); r.status != http.StatusCreated {
					b.Errorf("publish: %d %s", r.status, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
	produce := time.Since(start)
	start = time.Now()
	got := 0
	for got < b.N {
		msgs := c.messages(c.consume(topic, group, "numOfMessages", "16"))
		if len(msgs) == 0 {
			b.Fatalf("consumed %d of %d", got, b.N)
		}
		handles := make([]string, len(msgs))
		for i, m := range msgs {
			handles[i] = m.ReceiptHandle
		}
		if r := c.ack(topic, group, "", handles...); r.status != http.StatusNoContent {
			b.Fatalf("ack: %d %s", r.status, r.body)
		}
		got += len(msgs)
	}
	consume := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/produce.Seconds(), "produce-msg/s")
	b.ReportMetric(float64(b.N)/consume.Seconds(), "consume-msg/s")
}
