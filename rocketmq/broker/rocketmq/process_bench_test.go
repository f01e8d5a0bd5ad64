package rocketmq

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/broker"
)

// benchMessage is a delivered message with the properties a real delivery carries.
func benchMessage() *primitive.MessageExt {
	m := &primitive.MessageExt{MsgId: "C0A8000100002A9F0000000000000001", QueueOffset: 7}
	m.Topic = "orders"
	m.Body = []byte(`{"id":7,"note":"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}`)
	m.Queue = &primitive.MessageQueue{Topic: "orders", BrokerName: "b", QueueId: 1}
	m.WithProperties(map[string]string{
		"UNIQ_KEY": "C0A8000100002A9F0000000000000001", "CLUSTER": "DefaultCluster", "MIN_OFFSET": "0",
		"MAX_OFFSET": "100", "CONSUME_START_TIME": "1700000000000", "TAGS": "created",
	})
	return m
}

// BenchmarkProcess is the driver's per-message overhead on top of decoding; compare
// with BenchmarkProcessRawDecode (the decoding a raw client callback does).
func BenchmarkProcess(b *testing.B) {
	br := New(WithNameServer([]string{"127.0.0.1:1"}))
	if err := br.Init(); err != nil {
		b.Fatal(err)
	}
	br.ses = &session{flight: newInflight(), release: make(chan struct{}), hard: context.Background(), cancel: func() {}}
	h := broker.TypedHandler(func(context.Context, string, broker.Headers, *order) error { return nil })
	sub := br.newSubscription("g", "orders", h, broker.NewBinder[order](), broker.NewSubscribeOptions(), groupModel{maxRecon: 16})
	m := benchMessage()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := sub.process(m); out != outcomeSuccess {
			b.Fatal(err)
		}
	}
}

func BenchmarkProcessRawDecode(b *testing.B) {
	m := benchMessage()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var o order
		if err := json.Unmarshal(m.Body, &o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliveryGoroutine runs every delivery on a new goroutine, as the client
// does (a goroutine's stack starts at 2 KiB and grows by copying), with a 1 KiB JSON
// body: "raw" is a callback that decodes it, "driver" the driver's consumeConcurrently
// with a typed handler. Frames above the decoding count here, unlike in
// BenchmarkProcess; compare the two sub-benchmarks of one run.
func BenchmarkDeliveryGoroutine(b *testing.B) {
	m := benchMessage()
	body, err := json.Marshal(order{ID: 7, Note: strings.Repeat("x", 1000)})
	if err != nil {
		b.Fatal(err)
	}
	m.Body = body
	br := New(WithNameServer([]string{"127.0.0.1:1"}))
	if err := br.Init(); err != nil {
		b.Fatal(err)
	}
	br.ses = &session{flight: newInflight(), release: make(chan struct{}), hard: context.Background(), cancel: func() {}}
	h := broker.TypedHandler(func(context.Context, string, broker.Headers, *order) error { return nil })
	sub := br.newSubscription("g", "orders", h, broker.NewBinder[order](), broker.NewSubscribeOptions(), groupModel{maxRecon: 16})
	ctx := primitive.WithConcurrentlyCtx(context.Background(), primitive.NewConsumeConcurrentlyContext())
	b.Run("raw", func(b *testing.B) {
		onGoroutines(b, func() {
			var o order
			if err := json.Unmarshal(m.Body, &o); err != nil {
				panic(err)
			}
		})
	})
	b.Run("driver", func(b *testing.B) {
		onGoroutines(b, func() {
			if r, err := sub.consumeConcurrently(ctx, m); r != consumer.ConsumeSuccess {
				panic(err)
			}
		})
	})
}

// onGoroutines runs f b.N times, each on a new goroutine, 256 at a time.
func onGoroutines(b *testing.B, f func()) {
	const batch = 256
	var wg sync.WaitGroup
	b.ReportAllocs()
	for i := 0; i < b.N; i += batch {
		for j := i; j < min(i+batch, b.N); j++ {
			wg.Add(1)
			go func() { defer wg.Done(); f() }()
		}
		wg.Wait()
	}
}
