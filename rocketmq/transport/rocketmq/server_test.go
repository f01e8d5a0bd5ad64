package rocketmq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/middleware/recovery"
	"github.com/go-kratos/kratos/v2/transport"
	"go.uber.org/goleak"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

type seenTransport struct {
	kind      transport.Kind
	operation string
	tags      string
	tenant    string
	endpoint  string
}

func TestServerTypedSubscriberWithMiddleware(t *testing.T) {
	forDrivers(t, allDrivers, nil, testTypedSubscriberWithMiddleware)
}

func testTypedSubscriberWithMiddleware(t *testing.T, e *driverEnv) {
	var mwSaw atomic.Pointer[seenTransport]
	spy := func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			if tr, ok := transport.FromServerContext(ctx); ok && tr.RequestHeader().Get(headerWarmup) == "" {
				mwSaw.Store(&seenTransport{kind: tr.Kind(), operation: tr.Operation(),
					tags: tr.RequestHeader().Get(rmq.HeaderTags), endpoint: tr.Endpoint()})
			}
			if o, ok := req.(*order); !ok || o == nil {
				return nil, fmt.Errorf("middleware request is %T, want *order", req)
			}
			return next(ctx, req)
		}
	}
	srv := e.server(WithMiddleware(recovery.Recovery(), spy), WithCodec("json"))
	topic, group := e.topic("NORMAL"), e.group(false)

	type delivery struct {
		topic   string
		headers broker.Headers
		body    order
		tr      *seenTransport
	}
	got := make(chan delivery, 4)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, tp string, h broker.Headers, o *order) error {
			if isWarmup(h) {
				return nil
			}
			d := delivery{topic: tp, headers: h, body: *o}
			if tr, ok := transport.FromServerContext(ctx); ok {
				d.tr = &seenTransport{kind: tr.Kind(), operation: tr.Operation(),
					tags: tr.RequestHeader().Get(rmq.HeaderTags), tenant: tr.RequestHeader().Get("tenant")}
			}
			got <- d
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	if err := srv.Publish(context.Background(), topic, &order{ID: 42, Note: "hello"},
		rmq.WithTag("created"), rmq.WithKeys([]string{"order-42"}),
		rmq.WithProperties(map[string]string{"tenant": "acme"})); err != nil {
		t.Fatal(err)
	}
	var d delivery
	select {
	case d = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	if d.body != (order{ID: 42, Note: "hello"}) || d.topic != topic {
		t.Errorf("delivery = %+v", d)
	}
	if d.headers[rmq.HeaderKeys] != "order-42" || d.headers["tenant"] != "acme" || d.headers[rmq.HeaderMessageID] == "" {
		t.Errorf("headers = %v", d.headers)
	}
	want := seenTransport{kind: KindRocketMQ, operation: topic, tags: "created", tenant: "acme"}
	if d.tr == nil || *d.tr != want {
		t.Errorf("handler transport = %+v, want %+v", d.tr, want)
	}
	saw := mwSaw.Load()
	if saw == nil || saw.kind != KindRocketMQ || saw.operation != topic || saw.tags != "created" {
		t.Errorf("middleware transport = %+v", saw)
	}
	if ep, _ := srv.Endpoint(); saw != nil && saw.endpoint != ep.String() {
		t.Errorf("transport endpoint %q, server endpoint %q", saw.endpoint, ep)
	}
}

func TestServerKeepAliveEndpoint(t *testing.T) {
	ns := rmqtest.NameServer(t)
	srv := newTestServer(t, ns)
	u, err := srv.Endpoint() // before Start: listening already
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || !strings.HasPrefix(u.Host, "127.0.0.1:") {
		t.Fatalf("endpoint = %v", u)
	}
	start(t, srv)
	resp, err := http.Get(u.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
	u2, _ := srv.Endpoint()
	if u2.String() != u.String() {
		t.Errorf("endpoint changed: %v then %v", u, u2)
	}

	off := NewServer(DriverTypeV2, WithNameServer([]string{ns}), WithEnableKeepAlive(false))
	if u, err := off.Endpoint(); err != nil || u.String() != "rocketmq://"+ns {
		t.Errorf("keep-alive off: endpoint = %v, %v", u, err)
	}
}

func TestServerStartFailures(t *testing.T) {
	defer goleak.VerifyNone(t, append(leakOptions, goleak.IgnoreCurrent())...)
	for _, tc := range []struct {
		name   string
		driver DriverType
		opts   []ServerOption
		want   string
	}{
		{"unknown codec", DriverTypeV2, []ServerOption{WithCodec("yaml-ish")}, `"yaml-ish"`},
		{"v5 driver, no proxy", DriverTypeV5, []ServerOption{WithBrokerOptions(rmq.WithSendTimeout(time.Second))}, "127.0.0.1:1"},
		{"v5 driver, unsupported option", DriverTypeV5, []ServerOption{WithEnableTrace()}, "WithEnableTrace"},
		{"aliyun driver, unsupported option", DriverTypeAliyun, []ServerOption{WithEnableTrace()}, "WithEnableTrace"},
		{"tls", DriverTypeV2, []ServerOption{WithTLSConfig(&tls.Config{})}, "TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(tc.driver, append([]ServerOption{WithNameServer([]string{"127.0.0.1:1"}),
				WithEnableKeepAlive(false)}, tc.opts...)...)
			err := srv.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want an error containing %s", err, tc.want)
			}
			again := srv.Start(context.Background())
			if again == nil || !errors.Is(again, errors.Unwrap(again)) || !strings.Contains(again.Error(), tc.want) {
				t.Errorf("second Start = %v, want the first cause", again)
			}
			if err := srv.Publish(context.Background(), "t", "x"); err == nil {
				t.Error("Publish on a failed server succeeded")
			}
			if err := srv.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
}

func TestServerStartReportsSubscribeErrors(t *testing.T) {
	forDrivers(t, allDrivers, nil, testStartReportsSubscribeErrors)
}

func testStartReportsSubscribeErrors(t *testing.T, e *driverEnv) {
	srv := e.server()
	missing := rmqtest.Name(t, "NOPE")
	h := func(context.Context, string, broker.Headers, *order) error { return nil }
	if err := RegisterSubscriber(srv, context.Background(), missing, rmqtest.Name(t, "G"), h); err != nil {
		t.Fatal(err)
	}
	if err := RegisterSubscriber(srv, context.Background(), missing, "", h); err != nil {
		t.Fatal(err) // no group at all: reported by Start
	}
	err := srv.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "no consumer group") {
		t.Fatalf("Start = %v, want both subscription errors", err)
	}
	if again := srv.Start(context.Background()); again == nil || !strings.Contains(again.Error(), missing) {
		t.Errorf("second Start = %v, want the first cause", again)
	}
}

func TestServerStopWaitsForSlowHandler(t *testing.T) {
	forDrivers(t, allDrivers, nil, testStopWaitsForSlowHandler)
}

func testStopWaitsForSlowHandler(t *testing.T, e *driverEnv) {
	topic, group := e.topic("NORMAL"), e.group(false)
	leaks := append(leakOptions, goleak.IgnoreCurrent())
	func() {
		srv := e.server()
		first := make(chan struct{})
		release := make(chan struct{})
		var done atomic.Bool
		err := RegisterSubscriber(srv, context.Background(), topic, group,
			func(ctx context.Context, _ string, h broker.Headers, o *order) error {
				if isWarmup(h) {
					return nil
				}
				close(first)
				<-release
				done.Store(true)
				return nil
			}, rmq.WithConsumeFromFirst())
		if err != nil {
			t.Fatal(err)
		}
		start(t, srv)
		if err := srv.Publish(context.Background(), topic, &order{ID: 1}); err != nil {
			t.Fatal(err)
		}
		<-first
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stopped <- srv.Stop(ctx)
		}()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a handler was running", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !done.Load() {
			t.Fatal("Stop returned before the handler finished")
		}
	}()
	goleak.VerifyNone(t, leaks...)
}

func TestServerPanicAndErrorGoToDLQ(t *testing.T) {
	forDrivers(t, allDrivers, nil, testPanicAndErrorGoToDLQ)
}

func testPanicAndErrorGoToDLQ(t *testing.T, e *driverEnv) {
	srv := e.server(WithMiddleware(recovery.Recovery()))
	topic, group := e.topic("NORMAL"), e.group(false)
	var attempts atomic.Int32
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if isWarmup(h) {
				return nil
			}
			attempts.Add(1)
			panic("handler bug")
		}, rmq.WithConsumeFromFirst(), rmq.WithMaxReconsumeTimes(1), e.retryDelay(1))
	if err != nil {
		t.Fatal(err)
	}
	dead := make(chan broker.Headers, 1)
	err = srv.RegisterSubscriber(context.Background(), "%DLQ%"+group, rmqtest.Name(t, "DLQ"),
		func(ctx context.Context, evt broker.Event) error {
			dead <- evt.Message().Headers
			return nil
		}, nil, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	// The DLQ topic exists only after the first dead letter; subscribe it later.
	srv.mu.Lock()
	dlqReg := srv.regs[len(srv.regs)-1]
	srv.regs = srv.regs[:len(srv.regs)-1]
	srv.mu.Unlock()
	start(t, srv)
	if err := srv.Publish(context.Background(), topic, &order{ID: 1}, rmq.WithKeys([]string{"poison"})); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 120*time.Second, "2 attempts", func() bool { return attempts.Load() >= 2 })
	poll.Until(t, 90*time.Second, "the dead-letter topic", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.subscribeLocked(dlqReg) == nil
	})
	select {
	case h := <-dead:
		if h[rmq.HeaderKeys] != "poison" {
			t.Errorf("dead letter headers = %v", h)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("nothing in the DLQ")
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts before the DLQ, want 2 (1 + max reconsume times 1)", n)
	}
}

func TestServerRestartKeepsSubscriptions(t *testing.T) {
	forDrivers(t, allDrivers, nil, testRestartKeepsSubscriptions)
}

func testRestartKeepsSubscriptions(t *testing.T, e *driverEnv) {
	srv := e.server()
	topic, group := e.topic("NORMAL"), e.group(false)
	got := make(chan int, 4)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				got <- o.ID
			}
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		start(t, srv)
		if err := srv.Publish(context.Background(), topic, &order{ID: round}); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-got:
			if id != round {
				t.Fatalf("round %d: got message %d", round, id)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: no delivery", round)
		}
		if err := srv.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
