package rocketmq

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/layout/pkg/broker"
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
