package server

import (
	"context"
	"fmt"
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

// lines is a logger keeping its lines as text.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) Log(level log.Level, kv ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, level.String()+" "+strings.TrimSpace(fmt.Sprintln(kv...)))
	return nil
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
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

func subscriptions(subs ...*conf.RocketMQ_Subscription) *conf.Server {
	return &conf.Server{Rocketmq: &conf.RocketMQ{Group: "g", Subscriptions: subs}}
}

func TestHandlerRegistryAtStart(t *testing.T) {
	r := &recorder{got: map[string][]string{}}
	ep := endpoint(t, "127.0.0.1:1") // NewRocketMQServer does not dial
	for _, tc := range []struct {
		name    string
		subs    []*conf.RocketMQ_Subscription
		wantErr string
		wantLog string
	}{
		{"unknown handler", []*conf.RocketMQ_Subscription{
			{Topic: "t", Handler: "order-created", Group: "a"}, {Topic: "t", Handler: "order-shipped", Group: "b"},
		}, `config key server.rocketmq.subscriptions[1].handler: unknown handler "order-shipped" (known: order-confirmed, order-created)`, ""},
		{"handler without a subscription", []*conf.RocketMQ_Subscription{
			{Topic: "t", Handler: "order-created", Group: "a"},
		}, "", "WARN msg event handler has no subscription in server.rocketmq.subscriptions: its events are not consumed handler order-confirmed event OrderConfirmed"},
		{"every handler subscribed", []*conf.RocketMQ_Subscription{
			{Topic: "t", Handler: "order-created", Group: "a"}, {Topic: "t", Handler: "order-confirmed", Group: "b"},
		}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lines{}
			_, err := NewRocketMQServer(subscriptions(tc.subs...), ep, r.handlers(), logs)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(logs.text(), "has no subscription")
			if tc.wantLog != "" && !strings.Contains(logs.text(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, logs.text())
			}
			if tc.wantLog == "" && warned {
				t.Errorf("warned although every handler has a subscription:\n%s", logs.text())
			}
		})
	}
}

// TestTagDefaultsToTheHandlersEvent subscribes both demo handlers to one topic without a
// tag filter and publishes both event types, tagged with their names as the publisher
// does: each handler must get only its own events (without the default, each group
// would take every message and decode the other type too).
func TestTagDefaultsToTheHandlersEvent(t *testing.T) {
	ns, _ := rmqtest.Start(t)
	ep := endpoint(t, ns)
	topic := rmqtest.Name(t, "orders")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ep.Producer.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	r := &recorder{got: map[string][]string{}}
	srv, err := NewRocketMQServer(subscriptions(
		&conf.RocketMQ_Subscription{Topic: topic, Handler: "order-created", Group: rmqtest.Name(t, "confirm"), ConsumeFrom: conf.ConsumeFrom_FIRST_OFFSET},
		&conf.RocketMQ_Subscription{Topic: topic, Handler: "order-confirmed", Group: rmqtest.Name(t, "notify"), ConsumeFrom: conf.ConsumeFrom_FIRST_OFFSET},
	), ep, r.handlers(), log.NewStdLogger(io.Discard))
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
