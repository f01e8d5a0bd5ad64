package server

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/kratos-rocketmq/layout/internal/biz"
	"github.com/kratos-rocketmq/layout/internal/conf"
	"github.com/kratos-rocketmq/layout/internal/service"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/cluster"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

// recorder keeps the events its handlers got, by handler.
type recorder struct {
	mu  sync.Mutex
	got map[string][]string // handler → event ids
}

func (r *recorder) add(handler, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[handler] = append(r.got[handler], id)
}

func (r *recorder) of(handler string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[handler]...)
}

// handlers are the two demo handlers' shapes, recording instead of calling use cases.
func (r *recorder) handlers() service.Handlers {
	return service.Handlers{
		"order-created": service.On(func(_ context.Context, ev *biz.OrderCreated) error {
			r.add("order-created", ev.EventID)
			return nil
		}),
		"order-confirmed": service.On(func(_ context.Context, ev *biz.OrderConfirmed) error {
			r.add("order-confirmed", ev.EventID)
			return nil
		}),
	}
}

func endpoint(t *testing.T, nameServer string) *cluster.Endpoint {
	t.Helper()
	mp := sdkmetric.NewMeterProvider()
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	ep, err := cluster.Open(context.Background(), cluster.Settings{NameServers: []string{nameServer}}, cluster.Settings{},
		cluster.WithLogger(log.NewStdLogger(io.Discard)), cluster.WithTelemetry(mp, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ep.Close() })
	return ep
}

// config is the configuration of the consuming side: the subscriptions listed, the
// group prefix and the service's event topic.
func config(prefix, topic string, subs ...*conf.Subscription) (*conf.Server, *conf.Data) {
	return &conf.Server{Rocketmq: &conf.RocketMQServer{GroupPrefix: prefix, Subscriptions: subs}},
		&conf.Data{Rocketmq: &conf.RocketMQ{Producer: &conf.RocketMQ_Producer{Topic: topic}}}
}

func TestUnknownHandlerStopsTheStart(t *testing.T) {
	r := &recorder{got: map[string][]string{}}
	ep := endpoint(t, "127.0.0.1:1") // NewRocketMQServer does not dial
	s, d := config("g", "t", &conf.Subscription{Topic: "t", Handler: "order-created", Group: "a"},
		&conf.Subscription{Topic: "t", Handler: "order-shipped", Group: "b"})
	_, err := NewRocketMQServer(s, d, ep, r.handlers(), log.NewStdLogger(io.Discard))
	want := `config key server.rocketmq.subscriptions[1].handler: unknown handler "order-shipped" (known: order-confirmed, order-created)`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

// TestDefaultSubscriptions lists no subscription: both demo handlers are subscribed
// to the service's event topic, each in its own group, and both event types are
// published, tagged with their names as the publisher does. Each handler must get only
// its own events (without the tag default, each group would take every message and
// decode the other type too; without a subscription per handler, one gets nothing).
func TestDefaultSubscriptions(t *testing.T) {
	ns, _ := rmqtest.Start(t)
	ep := endpoint(t, ns)
	topic := rmqtest.Name(t, "orders")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	r := &recorder{got: map[string][]string{}}
	s, d := config(rmqtest.Name(t, "svc"), topic)
	srv, err := NewRocketMQServer(s, d, ep, r.handlers(), log.NewStdLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	p, err := ep.Producer.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Disconnect() })
	events := []biz.Event{
		biz.OrderConfirmed{EventID: "confirmed-1", OrderID: "o", Version: 1},
		biz.OrderCreated{EventID: "created-1", OrderID: "o", Version: 1},
		biz.OrderConfirmed{EventID: "confirmed-2", OrderID: "o", Version: 1},
		biz.OrderCreated{EventID: "created-2", OrderID: "o", Version: 1},
	}
	for _, e := range events {
		if err := p.Publish(ctx, topic, e, rmq.WithTag(e.EventName()), rmq.WithKeys([]string{e.EventKey()})); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 30*time.Second, "each handler to get both of its events", func() bool {
		return len(r.of("order-created")) >= 2 && len(r.of("order-confirmed")) >= 2
	})
	time.Sleep(500 * time.Millisecond) // a message of the other type would have come with these
	for handler, prefix := range map[string]string{"order-created": "created-", "order-confirmed": "confirmed-"} {
		for _, id := range r.of(handler) {
			if !strings.HasPrefix(id, prefix) {
				t.Errorf("handler %s got event %s of the other type", handler, id)
			}
		}
	}
}
