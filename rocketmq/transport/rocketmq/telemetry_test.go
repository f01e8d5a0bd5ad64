package rocketmq

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratos-rocketmq/rocketmq/broker"
	rmq "github.com/kratos-rocketmq/rocketmq/broker/rocketmq"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
	"github.com/kratos-rocketmq/rocketmq/poll"
)

func TestTraceContextCrossesTheBroker(t *testing.T) {
	forDrivers(t, allDrivers, nil, testTraceContextCrossesTheBroker)
}

func testTraceContextCrossesTheBroker(t *testing.T, e *driverEnv) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv := e.server(WithTracerProvider(tp, "test"))
	topic, group := e.topic("NORMAL"), e.group(false)
	got := make(chan trace.SpanContext, 1)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				got <- trace.SpanContextFromContext(ctx)
			}
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "create order")
	if err := srv.Publish(ctx, topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var consumer trace.SpanContext
	select {
	case consumer = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	if consumer.TraceID() != parent.SpanContext().TraceID() {
		t.Fatalf("consumer trace %s, producer trace %s", consumer.TraceID(), parent.SpanContext().TraceID())
	}
	var pub, proc sdktrace.ReadOnlySpan
	poll.Until(t, 10*time.Second, "producer and consumer spans", func() bool {
		for _, s := range rec.Ended() {
			switch s.SpanKind() {
			case trace.SpanKindProducer:
				pub = s
			case trace.SpanKindConsumer:
				if s.SpanContext().SpanID() == consumer.SpanID() {
					proc = s
				}
			}
		}
		return pub != nil && proc != nil
	})
	if pub.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("publish span's parent = %s, want the caller's span %s", pub.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	if proc.Parent().SpanID() != pub.SpanContext().SpanID() {
		t.Errorf("process span's parent = %s, want the publish span %s", proc.Parent().SpanID(), pub.SpanContext().SpanID())
	}
	if len(proc.Links()) != 1 || proc.Links()[0].SpanContext.SpanID() != pub.SpanContext().SpanID() {
		t.Errorf("process span links = %v, want the publish span", proc.Links())
	}
}

func TestTracingOffLeavesNoSpan(t *testing.T) {
	ns := rmqtest.NameServer(t)
	srv := newTestServer(t, ns)
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, ns, topic)
	got := make(chan trace.SpanContext, 1)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				got <- trace.SpanContextFromContext(ctx)
			}
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	if err := srv.Publish(context.Background(), topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case sc := <-got:
		if sc.IsValid() {
			t.Errorf("tracing off but the handler has span %v", sc)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
}

// metricsSum adds up the data points of the named counter or histogram (count) that
// carry all attrs.
func metricsSum(t *testing.T, reader *sdkmetric.ManualReader, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if hasAll(p.Attributes, attrs) {
						total += p.Value
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if hasAll(p.Attributes, attrs) {
						total += int64(p.Count)
					}
				}
			}
		}
	}
	return total
}

// metricsServer starts a server with a manual metric reader and a subscriber whose
// handler fails for the IDs in fail (every time).
func metricsServer(t *testing.T, e *driverEnv, fail map[int]bool) (srv *Server, reader *sdkmetric.ManualReader, topic, group string, handled *atomic.Int32) {
	t.Helper()
	reader = sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	srv = e.server(WithMeterProvider(mp))
	topic, group = e.topic("NORMAL"), e.group(false)
	handled = new(atomic.Int32)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if isWarmup(h) {
				return nil
			}
			handled.Add(1)
			if fail[o.ID] {
				return errors.New("fail")
			}
			return nil
		}, rmq.WithConsumeFromFirst(), rmq.WithMaxReconsumeTimes(3), e.retryDelay(1))
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	return srv, reader, topic, group, handled
}

func TestMetrics(t *testing.T) {
	forDrivers(t, allDrivers, nil, testMetrics)
}

func testMetrics(t *testing.T, e *driverEnv) {
	srv, reader, topic, group, handled := metricsServer(t, e, nil)
	for _, id := range []int{1, 2} {
		if err := srv.Publish(context.Background(), topic, &order{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 30*time.Second, "both messages handled", func() bool { return handled.Load() >= 2 })
	tp, gr := attribute.String("topic", topic), attribute.String("group", group)
	poll.Until(t, 10*time.Second, "success metrics", func() bool {
		return metricsSum(t, reader, rmq.MetricConsumedMessages, tp, gr, attribute.String("outcome", rmq.OutcomeSuccess)) >= 2
	})
	if n := metricsSum(t, reader, rmq.MetricConsumeDuration, tp, gr); n < 2 {
		t.Errorf("%s count = %d, want >= 2", rmq.MetricConsumeDuration, n)
	}
	if n := metricsSum(t, reader, rmq.MetricPublishedMessages, tp, attribute.String("outcome", "success")); n != 2 {
		t.Errorf("%s = %d, want 2", rmq.MetricPublishedMessages, n)
	}
	if n := metricsSum(t, reader, rmq.MetricPublishDuration, tp); n != 2 {
		t.Errorf("%s count = %d, want 2", rmq.MetricPublishDuration, n)
	}
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func TestGlobalTracerProviderAndPropagator(t *testing.T) {
	ns := rmqtest.NameServer(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevProp := otel.GetTextMapPropagator()
	// otel cannot restore its default provider; no other test in this package reads it.
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(context.Background())
	})
	srv := newTestServer(t, ns, WithGlobalTracerProvider(), WithGlobalPropagator())
	topic, group := rmqtest.Name(t, "T"), rmqtest.Name(t, "G")
	ensureTopic(t, ns, topic)
	got := make(chan trace.SpanContext, 1)
	err := RegisterSubscriber(srv, context.Background(), topic, group,
		func(ctx context.Context, _ string, h broker.Headers, o *order) error {
			if !isWarmup(h) {
				got <- trace.SpanContextFromContext(ctx)
			}
			return nil
		}, rmq.WithConsumeFromFirst())
	if err != nil {
		t.Fatal(err)
	}
	start(t, srv)
	ctx, parent := otel.Tracer("test").Start(context.Background(), "parent")
	if err := srv.Publish(ctx, topic, &order{ID: 1}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	select {
	case sc := <-got:
		if !sc.IsValid() || sc.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("handler span %v, want trace %s", sc, parent.SpanContext().TraceID())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
}
