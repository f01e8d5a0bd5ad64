package minirocketmq_test

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	v2 "github.com/kratos-rocketmq/rocketmq/protocol/v2"
)

// BenchmarkGRPCProduceConsume: 16 goroutines send b.N messages of 1 KiB
// over gRPC, then one simple consumer receives them in batches of 32 and
// acknowledges each batch. Reported: produce and consume msg/s.
//
//	go test -run '^$' -bench GRPCProduceConsume -benchtime 20000x ./minirocketmq
func BenchmarkGRPCProduceConsume(b *testing.B) {
	br := startV5(b)
	topic, group := rmqtest.Name(b, "T"), rmqtest.Name(b, "G")
	if err := br.CreateTopic(topic, 4); err != nil {
		b.Fatal(err)
	}
	prod, cons := dialV5(b, br), dialV5(b, br)
	prod.producer(topic)
	cons.consumer(group, topic)
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
				resp := prod.send(prod.newMsgConcurrent(topic, body))
				if resp.GetStatus().GetCode() != v2.Code_OK {
					b.Errorf("send: %v", resp.GetStatus())
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
		msgs := cons.receive(group, topic)
		if len(msgs) == 0 {
			b.Fatalf("received %d of %d", got, b.N)
		}
		if st := cons.ack(group, topic, msgs...).GetStatus(); st.GetCode() != v2.Code_OK {
			b.Fatalf("ack: %v", st)
		}
		got += len(msgs)
	}
	consume := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/produce.Seconds(), "produce-msg/s")
	b.ReportMetric(float64(b.N)/consume.Seconds(), "consume-msg/s")
}

var idSeq atomic.Int64

// newMsgConcurrent is newMsg safe for concurrent senders.
func (c *v5client) newMsgConcurrent(topic, body string) *v2.Message {
	return &v2.Message{
		Topic: c.res(topic),
		Body:  []byte(body),
		SystemProperties: &v2.SystemProperties{
			MessageId:    "02" + strconv.FormatInt(idSeq.Add(1), 10),
			MessageType:  v2.MessageType_NORMAL,
			BodyEncoding: v2.Encoding_IDENTITY,
		},
	}
}
