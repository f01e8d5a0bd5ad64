package tlstest_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

func TestMain(m *testing.M) {
	rlog.SetLogLevel("error")
	code := m.Run()
	// The broker's goroutines must all be gone (the client leaves some of
	// its own behind; see minirocketmq's helpers_test.go).
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			n := 0
			for _, g := range strings.Split(stacks, "\n\n")[1:] {
				if strings.Contains(g, "rocketmq/minirocketmq.") && !strings.Contains(g, "testing.") {
					n++
				}
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "%d broker goroutine(s) left after the tests\n", n)
				code = 1
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// TestOfficialClientTLS: against listeners with WithTLS, the official
// client with TLS on sends and consumes; a plain client is refused and
// stores nothing.
func TestOfficialClientTLS(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("needs the embedded broker's TLS listeners")
	}
	f := rmqtest.WriteTLSFiles(t)
	cfg, err := minirocketmq.LoadTLSConfig(f.ServerCert, f.ServerKey, "")
	if err != nil {
		t.Fatal(err)
	}
	b := minirocketmq.RunT(t, minirocketmq.WithTLS(cfg))
	topic := rmqtest.Name(t, "T")
	if err := b.CreateTopic(topic, 2); err != nil {
		t.Fatal(err)
	}

	// First a plain client, while the process-wide switch is still off.
	plain := start(t, producer.WithNameServer([]string{b.Addr()}), producer.WithGroupName(rmqtest.Name(t, "PlainPG")),
		producer.WithInstanceName("plain"), producer.WithRetry(0))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	_, err = plain.SendSync(ctx, primitive.NewMessage(topic, []byte("plain")))
	t.Logf("plain client refused: %v", err)
	cancel()
	if err == nil {
		t.Fatal("a plain client sent through a TLS listener")
	}
	_ = plain.Shutdown()
	for q := range 2 {
		if n := b.MaxOffset(topic, q); n != 0 {
			t.Fatalf("queue %d holds %d message(s) after the plain client's send", q, n)
		}
	}

	p := start(t, producer.WithNameServer([]string{b.Addr()}), producer.WithGroupName(rmqtest.Name(t, "PG")),
		producer.WithInstanceName("tls"), producer.WithTls(true))
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		_, err := p.SendSync(ctx, primitive.NewMessage(topic, []byte(fmt.Sprint(i))))
		cancel()
		if err != nil {
			t.Fatalf("send over TLS: %v", err)
		}
	}
	var got atomic.Int64
	c, err := rocketmq.NewPushConsumer(consumer.WithNameServer([]string{b.Addr()}), consumer.WithGroupName(rmqtest.Name(t, "CG")),
		consumer.WithInstance("tls"), consumer.WithTls(true), consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		got.Add(int64(len(msgs)))
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	t.Cleanup(func() {
		// The client's Shutdown races with the rebalance its Start set off
		// (a race of its own): give that a second, as the driver does.
		time.Sleep(time.Until(started.Add(time.Second)))
		_ = c.Shutdown()
	})
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d of 5 messages over TLS", got.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func start(t *testing.T, opts ...producer.Option) rocketmq.Producer {
	t.Helper()
	p, err := rocketmq.NewProducer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}
