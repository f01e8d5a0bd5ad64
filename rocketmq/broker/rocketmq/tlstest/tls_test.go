package tlstest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/rlog"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestDriverTLS: a driver whose tls.Config says InsecureSkipVerify publishes
// and consumes through TLS listeners; a second, plain driver in the same
// process is refused, since the client cannot have both.
func TestDriverTLS(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs the embedded broker's TLS listeners")
	}
	rlog.SetLogLevel("error")
	f := rmqtest.WriteTLSFiles(t)
	srv, err := minirocketmq.LoadTLSConfig(f.ServerCert, f.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	mb := minirocketmq.RunT(t, minirocketmq.WithTLS(srv))
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	if err := mb.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}

	b := rocketmq.New(rocketmq.WithNameServer([]string{mb.Addr()}), broker.WithTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	if err := b.Connect(); err != nil {
		t.Fatalf("connect with TLS: %v", err)
	}
	t.Cleanup(func() { _ = b.Disconnect() })
	var got atomic.Int64
	if _, err := b.Subscribe(topic, func(context.Context, broker.Event) error { got.Add(1); return nil }, nil,
		broker.WithQueueName(group), rocketmq.WithConsumeFromFirst()); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := b.Publish(ctx, topic, []byte(`{"id":1}`))
		cancel()
		if err != nil {
			t.Fatalf("publish over TLS: %v", err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d of 3 messages over TLS", got.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}

	plain := rocketmq.New(rocketmq.WithNameServer([]string{mb.Addr()}))
	if err := plain.Connect(); !errors.Is(err, rocketmq.ErrTLSMixed) {
		_ = plain.Disconnect()
		t.Fatalf("a plain driver next to a TLS one: %v, want ErrTLSMixed", err)
	}
	verify := rocketmq.New(rocketmq.WithNameServer([]string{mb.Addr()}), broker.WithTLSConfig(&tls.Config{ServerName: "localhost"}))
	if err := verify.Init(); !errors.Is(err, rocketmq.ErrTLSUnsupported) {
		t.Fatalf("a tls.Config that verifies: %v, want ErrTLSUnsupported", err)
	}
}
