package rocketmq

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kratos-rocketmq/rocketmq/broker"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestNameServerHostNames: a name server given by host name ("localhost:9876", a
// compose or Kubernetes service name) works, although rocketmq-client-go/v2 takes IP
// addresses only; a name that does not resolve fails Connect with the lookup error.
func TestNameServerHostNames(t *testing.T) {
	if rmqtest.External() != "" {
		t.Skip("uses the embedded broker's loopback address")
	}
	ns := strings.Replace(rmqtest.NameServer(t), "127.0.0.1", "localhost", 1)
	b := newTestBroker(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, b, topic)
	got := make(chan int, 1)
	_, err := broker.Subscribe(b, topic, func(ctx context.Context, _ string, h broker.Headers, o *order) error {
		if !isWarmup(h) {
			got <- o.ID
		}
		return nil
	}, broker.WithQueueName(group), WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), topic, &order{ID: 7}); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id != 7 {
			t.Errorf("got order %d", id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("message not delivered through a name server given by host name")
	}

	bad := New(WithNameServer([]string{"no-such-host.invalid:9876"}), broker.WithLogger(testLogger()))
	if err := bad.Connect(); err == nil || !strings.Contains(err.Error(), "no-such-host.invalid") {
		_ = bad.Disconnect()
		t.Errorf("Connect to an unknown host = %v, want the lookup error", err)
	}
}
